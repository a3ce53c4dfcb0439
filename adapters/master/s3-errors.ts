/**
 * Errors of the S3 client as LambdaErrors that say what to fix. The SDK has already retried what
 * is worth retrying (s3-client.ts); what reaches here is either a configuration problem (named by
 * its setting, CONFIG_INVALID, not retriable) or a dependency that stayed down (DEPENDENCY_DOWN,
 * retriable: the archiver backs off and tries again, a batch run fails and the next one retries).
 */
import { isLambdaError, LambdaError } from '../../shared/errors.js';
import { describeEndpoint, type S3Settings } from './s3-client.js';
import type { S3Location } from './s3-location.js';

export interface S3ErrorContext {
  location: S3Location;
  settings: S3Settings;
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);
const THROTTLING = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException', 'ServiceUnavailable']);
const CREDENTIAL_SETTINGS = 'LAMBDA_S3_ACCESS_KEY_ID / LAMBDA_S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)';

function shape(err: unknown): SdkErrorShape {
  return typeof err === 'object' && err !== null ? (err as SdkErrorShape) : { message: String(err) };
}

function attempts(e: SdkErrorShape): string {
  const n = e.$metadata?.attempts;
  return n !== undefined && n > 1 ? ` (after ${n} attempts)` : '';
}

/** The one-line reason and error code for an SDK error, or null when it is not a known case. */
function classify(e: SdkErrorShape, ctx: S3ErrorContext): { code: 'CONFIG_INVALID' | 'DEPENDENCY_DOWN' | 'NOT_FOUND'; reason: string } | null {
  const endpoint = describeEndpoint(ctx.settings);
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? '';
  const { bucket } = ctx.location;
  if (name === 'AbortError' || name === 'TimeoutError' || e.code === 'ETIMEDOUT') {
    return {
      code: 'DEPENDENCY_DOWN',
      reason: `the S3 endpoint ${endpoint} did not answer within LAMBDA_S3_REQUEST_TIMEOUT_MS=${ctx.settings.requestTimeoutMs}; check LAMBDA_S3_ENDPOINT and that the server is up`,
    };
  }
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) {
    return { code: 'DEPENDENCY_DOWN', reason: `cannot reach the S3 endpoint ${endpoint} (${e.code}); check LAMBDA_S3_ENDPOINT and that the server is up` };
  }
  if (name === 'CredentialsProviderError') {
    return { code: 'CONFIG_INVALID', reason: `no S3 credentials found: set ${CREDENTIAL_SETTINGS}, or give the process an AWS profile or role` };
  }
  if (name === 'InvalidAccessKeyId') {
    return {
      code: 'CONFIG_INVALID',
      reason: `the S3 endpoint ${endpoint} does not know the access key id: check LAMBDA_S3_ACCESS_KEY_ID (or AWS_ACCESS_KEY_ID)`,
    };
  }
  if (name === 'SignatureDoesNotMatch') {
    return {
      code: 'CONFIG_INVALID',
      reason: `the S3 endpoint ${endpoint} rejected the request signature: check LAMBDA_S3_SECRET_ACCESS_KEY (or AWS_SECRET_ACCESS_KEY)`,
    };
  }
  if (name === 'NoSuchBucket' || (name === 'NotFound' && status === 404)) {
    return {
      code: 'CONFIG_INVALID',
      reason: `bucket ${JSON.stringify(bucket)} does not exist at ${endpoint}: create it, or fix the bucket in LAMBDA_MASTER_URL (or LAMBDA_S3_ENDPOINT)`,
    };
  }
  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || name === 'IllegalLocationConstraintException' || status === 301) {
    return {
      code: 'CONFIG_INVALID',
      reason: `bucket ${JSON.stringify(bucket)} is in another region than LAMBDA_S3_REGION=${ctx.settings.region}: fix LAMBDA_S3_REGION`,
    };
  }
  if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) {
    return {
      code: 'CONFIG_INVALID',
      reason: `access denied by ${endpoint}: the credentials (${CREDENTIAL_SETTINGS}) are wrong or lack s3:ListBucket, s3:GetObject and s3:PutObject on ${ctx.location.url}`,
    };
  }
  if (name === 'NoSuchKey') return { code: 'NOT_FOUND', reason: 'no such object' };
  if (THROTTLING.has(name) || (status !== undefined && status >= 500)) {
    return {
      code: 'DEPENDENCY_DOWN',
      reason: `the S3 endpoint ${endpoint} keeps failing (${name || status}); raise LAMBDA_S3_MAX_ATTEMPTS if it is throttling`,
    };
  }
  return null;
}

/** `what` says what was being done, e.g. "cannot write events/...". */
export function s3Error(what: string, err: unknown, ctx: S3ErrorContext): LambdaError {
  if (isLambdaError(err)) return err;
  const e = shape(err);
  const known = classify(e, ctx);
  const retriable = known === null ? (e.$metadata?.httpStatusCode ?? 500) >= 500 : known.code === 'DEPENDENCY_DOWN';
  const reason = known?.reason ?? `${e.name ?? 'Error'}: ${e.message ?? 'unknown error'}`;
  return new LambdaError(known?.code ?? 'STORAGE', `master dataset ${ctx.location.url}: ${what}: ${reason}${attempts(e)}`, {
    cause: err,
    retriable,
    details: { masterUrl: ctx.location.url, endpoint: describeEndpoint(ctx.settings), s3Error: e.name, httpStatus: e.$metadata?.httpStatusCode },
  });
}
