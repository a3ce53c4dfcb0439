/**
 * A misconfigured master dataset fails at start (verify), with a LambdaError whose code says what
 * kind of problem it is and whose message names the setting to fix: wrong credentials, a missing
 * bucket, an endpoint that refuses connections or never answers; and a local folder that cannot
 * be created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMasterDataset, openVerifiedMasterDataset } from '../../adapters/master/index.js';
import { loadConfig } from '../../platform/config.js';
import { silentLogger } from '../../platform/logger.js';
import { isLambdaError, type LambdaError } from '../../shared/errors.js';
import { createTestBucket, s3Overrides, type TestBucket } from '../support/s3-bucket.js';

async function verifyError(env: Record<string, string>): Promise<LambdaError> {
  const master = openMasterDataset(loadConfig(env, process.cwd()), silentLogger());
  const err = await master.verify!().then(
    () => null,
    (e: unknown) => e,
  );
  if (!isLambdaError(err)) throw new Error(`verify() should have failed with a LambdaError, got ${String(err)}`);
  return err;
}

/** A port on which nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('verify() at start', () => {
  let bucket: TestBucket;
  let silent: Server;
  const sockets = new Set<Socket>();
  let dir: string;

  beforeAll(async () => {
    bucket = await createTestBucket();
    // Accepts connections and never answers: a hung server or a firewall that lets SYNs through.
    silent = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    dir = mkdtempSync(join(tmpdir(), 'verify-'));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
    await bucket.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes for a reachable bucket with valid credentials (also an empty prefix)', async () => {
    const master = await openVerifiedMasterDataset(loadConfig(s3Overrides(bucket.url('p')), process.cwd()), silentLogger());
    expect(master.describe()).toBe(`s3://${bucket.name}/p`);
    await openMasterDataset(loadConfig(s3Overrides(`s3://${bucket.name}`), process.cwd()), silentLogger()).verify!();
  });

  it('names the access key when the server does not know it', async () => {
    const err = await verifyError(s3Overrides(bucket.url('p'), { LAMBDA_S3_ACCESS_KEY_ID: 'nobody-knows-me' }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.retriable).toBe(false);
    expect(err.message).toContain('LAMBDA_S3_ACCESS_KEY_ID');
  });

  it('names the secret key when the signature does not match', async () => {
    const err = await verifyError(s3Overrides(bucket.url('p'), { LAMBDA_S3_SECRET_ACCESS_KEY: 'not-the-secret' }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('LAMBDA_S3_SECRET_ACCESS_KEY');
  });

  it('names LAMBDA_MASTER_URL when the bucket does not exist', async () => {
    const err = await verifyError(s3Overrides(`s3://${bucket.name}-missing/p`));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('LAMBDA_MASTER_URL');
    expect(err.message).toContain(`${bucket.name}-missing`);
  });

  it('names LAMBDA_S3_ENDPOINT when nothing listens there', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const err = await verifyError(s3Overrides(bucket.url('p'), { LAMBDA_S3_ENDPOINT: endpoint, LAMBDA_S3_MAX_ATTEMPTS: '2' }));
    expect(err.code).toBe('DEPENDENCY_DOWN');
    expect(err.retriable).toBe(true);
    expect(err.message).toContain('LAMBDA_S3_ENDPOINT');
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('gives up within LAMBDA_S3_REQUEST_TIMEOUT_MS when the endpoint never answers', async () => {
    const endpoint = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const err = await verifyError(s3Overrides(bucket.url('p'), { LAMBDA_S3_ENDPOINT: endpoint, LAMBDA_S3_REQUEST_TIMEOUT_MS: '400' }));
    expect(err.code).toBe('DEPENDENCY_DOWN');
    expect(err.message).toContain('LAMBDA_S3_ENDPOINT');
    expect(err.message).toContain('LAMBDA_S3_REQUEST_TIMEOUT_MS=400');
  });

  it('rejects half a pair of explicit keys when the config is loaded', () => {
    const env = s3Overrides(bucket.url('p'));
    delete env.LAMBDA_S3_SECRET_ACCESS_KEY;
    expect(() => loadConfig(env, process.cwd())).toThrow(/LAMBDA_S3_SECRET_ACCESS_KEY/);
  });

  it('local files: creates a missing root, and names LAMBDA_MASTER_URL when it cannot', async () => {
    const root = join(dir, 'deep', 'master');
    await openMasterDataset({ masterUrl: `file://${root}` }, silentLogger()).verify!();
    expect(existsSync(root)).toBe(true);

    writeFileSync(join(dir, 'a-file'), 'not a folder');
    const err = await openMasterDataset({ masterUrl: `file://${join(dir, 'a-file', 'master')}` }, silentLogger()).verify!().then(
      () => null,
      (e: unknown) => e,
    );
    expect(isLambdaError(err) && err.code).toBe('CONFIG_INVALID');
    expect(String((err as Error).message)).toContain('LAMBDA_MASTER_URL');
  });
});
