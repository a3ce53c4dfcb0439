/**
 * `s3://bucket/prefix` (LAMBDA_MASTER_URL) as a bucket and a key prefix. The master dataset's own
 * keys (shared/master/layout.ts: `events/...`, `checkpoints/...`) go under the prefix unchanged, so a bucket can
 * hold several datasets side by side and `aws s3 sync s3://bucket/prefix ./master` gives exactly
 * the local layout.
 */
import { LambdaError } from '../../shared/errors.js';

export interface S3Location {
  bucket: string;
  /** '' or a path ending in '/', e.g. `lambda/master/` */
  prefix: string;
  /** `s3://bucket/prefix` normalised, for logs and status */
  url: string;
}

// S3's bucket naming rules (3-63 characters, lower case, digits, dots, hyphens, alphanumeric at
// both ends); stricter than some S3-compatible servers, which is what keeps a config portable.
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function invalid(url: string, why: string): LambdaError {
  return new LambdaError('CONFIG_INVALID', `LAMBDA_MASTER_URL=${JSON.stringify(url)}: ${why}`);
}

export function parseS3Url(url: string): S3Location {
  if (!url.startsWith('s3://')) throw invalid(url, 'an S3 master dataset URL must start with s3://');
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash + 1);
  if (!BUCKET_RE.test(bucket) || bucket.includes('..')) {
    throw invalid(url, `${JSON.stringify(bucket)} is not a valid S3 bucket name (3-63 characters: a-z, 0-9, '.', '-')`);
  }
  const segments = path.split('/').filter((s, i, all) => !(s === '' && i === all.length - 1));
  if (path !== '' && segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw invalid(url, 'the prefix must not contain empty, "." or ".." path segments');
  }
  if ([...path].some((ch) => ch.charCodeAt(0) < 0x20 || ch === '\u007f' || ch === '\\')) {
    throw invalid(url, 'the prefix must not contain control characters or backslashes');
  }
  const prefix = path === '' ? '' : `${segments.join('/')}/`;
  return { bucket, prefix, url: prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix.slice(0, -1)}` };
}
