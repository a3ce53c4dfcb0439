/**
 * The S3 client of the master dataset, built from the `s3` settings of the Config (never from the
 * environment directly).
 *
 * Retries are the AWS SDK's own "standard" strategy: throttling (SlowDown, 503), 5xx, timeouts
 * and connection errors are retried with exponential backoff and jitter, up to
 * LAMBDA_S3_MAX_ATTEMPTS attempts per request; 4xx answers (bad credentials, missing bucket) are
 * not retried, so they surface at once and s3-errors.ts turns them into clear errors.
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { Config } from '../../platform/config.js';

export type S3Settings = Config['s3'];

export function createS3Client(s: S3Settings): S3Client {
  const config: S3ClientConfig = {
    region: s.region,
    forcePathStyle: s.forcePathStyle,
    maxAttempts: s.maxAttempts,
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: s.requestTimeoutMs,
      // Time to the response headers; throwOnRequestTimeout makes it an error the retry strategy
      // sees, instead of the SDK's default (a logged warning while the request hangs on).
      requestTimeout: s.requestTimeoutMs,
      throwOnRequestTimeout: true,
      // Idle time on the socket, which also bounds a stalled GetObject body mid-stream.
      socketTimeout: s.requestTimeoutMs,
    },
  };
  if (s.endpoint !== null) config.endpoint = s.endpoint;
  // Without explicit keys the SDK's default provider chain applies: it reads AWS_ACCESS_KEY_ID /
  // AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN / AWS_PROFILE from the process environment itself,
  // then shared config files, web identity and container/instance roles. That is the SDK reading
  // process.env, not this service: the one documented exception to "config is passed in", kept so
  // that the standard AWS ways to supply credentials (IAM roles above all) work unchanged.
  if (s.credentials !== null) config.credentials = { accessKeyId: s.credentials.accessKeyId, secretAccessKey: s.credentials.secretAccessKey };
  return new S3Client(config);
}

/** For messages: where requests go. */
export function describeEndpoint(s: S3Settings): string {
  return s.endpoint ?? `AWS S3 (${s.region})`;
}
