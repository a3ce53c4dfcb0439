/**
 * S3 for the tests: a bucket of their own on the test S3 server (inject('services').s3Endpoint),
 * the settings that point a Config at it, and the same settings as environment variables for
 * child processes. Buckets are emptied and deleted by `cleanup()`.
 */
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import type { Config } from '../../platform/config.js';
import { uniqueName } from './names.js';

export interface TestBucket {
  name: string;
  /** an admin client on the test server (for setup, cleanup and looking behind the adapter) */
  client: S3Client;
  /** `s3://<bucket>/<prefix>` */
  url(prefix: string): string;
  cleanup(): Promise<void>;
}

export function s3AdminClient(endpoint = inject('services').s3Endpoint): S3Client {
  const s = inject('services');
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: s.s3AccessKeyId, secretAccessKey: s.s3SecretAccessKey },
  });
}

/** Every key in the bucket (all pages). */
export async function listAllKeys(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys;
}

export async function createTestBucket(): Promise<TestBucket> {
  const name = uniqueName('lambda-test').toLowerCase();
  const client = s3AdminClient();
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return {
    name,
    client,
    url: (prefix) => `s3://${name}/${prefix}`,
    cleanup: async () => {
      const keys = await listAllKeys(client, name);
      for (let i = 0; i < keys.length; i += 1000) {
        await client.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
      }
      await client.send(new DeleteBucketCommand({ Bucket: name }));
      client.destroy();
    },
  };
}

/** testContext overrides that put the master dataset at `masterUrl` on the test S3 server. */
export function s3Overrides(masterUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  const s = inject('services');
  return {
    LAMBDA_MASTER_URL: masterUrl,
    LAMBDA_S3_ENDPOINT: s.s3Endpoint,
    LAMBDA_S3_ACCESS_KEY_ID: s.s3AccessKeyId,
    LAMBDA_S3_SECRET_ACCESS_KEY: s.s3SecretAccessKey,
    LAMBDA_S3_MAX_ATTEMPTS: '4',
    LAMBDA_S3_REQUEST_TIMEOUT_MS: '10000',
    ...extra,
  };
}

/** A Config's S3 settings as the environment variables a deployment (or a child process) sets. */
export function s3Env(config: Config, endpoint = config.s3.endpoint): Record<string, string> {
  const s = config.s3;
  return {
    ...(endpoint !== null ? { LAMBDA_S3_ENDPOINT: endpoint } : {}),
    LAMBDA_S3_REGION: s.region,
    LAMBDA_S3_FORCE_PATH_STYLE: String(s.forcePathStyle),
    LAMBDA_S3_MAX_ATTEMPTS: String(s.maxAttempts),
    LAMBDA_S3_REQUEST_TIMEOUT_MS: String(s.requestTimeoutMs),
    LAMBDA_S3_LIST_PAGE_SIZE: String(s.listPageSize),
    ...(s.credentials !== null ? { LAMBDA_S3_ACCESS_KEY_ID: s.credentials.accessKeyId, LAMBDA_S3_SECRET_ACCESS_KEY: s.credentials.secretAccessKey } : {}),
  };
}
