/**
 * The spark engine reading an S3 master dataset itself, through Hadoop's s3a connector (hadoop-aws
 * and the AWS SDK v2 modules it needs, resolved by services/spark/pom.xml): the Hadoop settings
 * that point s3a where the MasterDataset's own S3 client goes (LAMBDA_S3_*). On a spark:// cluster
 * the executors need those jars too: the project's standalone worker has the driver's; another
 * cluster needs hadoop-aws on its class path. docs/design-decisions.md, "The Spark engine".
 *
 * The settings hold the secret key: SparkSession sends them on the driver's stdin, never on a
 * command line, and nothing logs them.
 */
import type { Config } from '../../platform/config.js';

export type S3Settings = Config['s3'];

/** `s3://bucket/key` (MasterDataset.objectUrl) as the URL s3a reads. */
export function s3aUrl(objectUrl: string): string {
  return `s3a://${objectUrl.slice('s3://'.length)}`;
}

export function s3aSettings(s: S3Settings): Record<string, string> {
  const conf: Record<string, string> = {
    'fs.s3a.endpoint.region': s.region,
    'fs.s3a.path.style.access': String(s.forcePathStyle),
    // The SDK's own retries per request, as the port's client (LAMBDA_S3_MAX_ATTEMPTS).
    'fs.s3a.attempts.maximum': String(s.maxAttempts),
    // Spark reads each object once, front to back (a gzip stream never seeks).
    'fs.s3a.experimental.input.fadvise': 'sequential',
  };
  if (s.endpoint !== null) {
    conf['fs.s3a.endpoint'] = s.endpoint;
    conf['fs.s3a.connection.ssl.enabled'] = String(s.endpoint.startsWith('https:'));
  }
  // Without keys, s3a's default chain (environment, profile, instance or container role), as the
  // port's client falls back to the SDK's.
  if (s.credentials !== null) {
    conf['fs.s3a.aws.credentials.provider'] = 'org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider';
    conf['fs.s3a.access.key'] = s.credentials.accessKeyId;
    conf['fs.s3a.secret.key'] = s.credentials.secretAccessKey;
  }
  return conf;
}
