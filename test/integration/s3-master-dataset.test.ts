/**
 * The S3 master dataset against a real S3 server (S3Proxy): the same keys, bytes and lines as the
 * local adapter, listings across many pages, idempotent rewrites, checkpoints, multipart uploads,
 * the SDK's retries on throttling and 5xx, and a read that survives a dropped connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { LocalMasterDataset, MULTIPART_THRESHOLD_BYTES, openMasterDataset, S3MasterDataset } from '../../adapters/master/index.js';
import { loadConfig } from '../../platform/config.js';
import { silentLogger } from '../../platform/logger.js';
import { isLambdaError, type LambdaError } from '../../shared/errors.js';
import type { MasterDataset, MasterSegment } from '../../shared/ports.js';
import { readMaster } from '../support/master-read.js';
import { createTestBucket, listAllKeys, s3Overrides, type TestBucket } from '../support/s3-bucket.js';
import { S3FaultProxy } from '../support/s3-fault-proxy.js';

const PREFIX = 'team-a/master';
const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const PAGE = 50;

function s3Dataset(url: string, extra: Record<string, string> = {}): S3MasterDataset {
  const config = loadConfig(s3Overrides(url, { LAMBDA_S3_LIST_PAGE_SIZE: String(PAGE), ...extra }), process.cwd());
  return openMasterDataset(config, silentLogger()) as S3MasterDataset;
}

async function errorOf(p: Promise<unknown>): Promise<LambdaError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isLambdaError(err)) throw new Error(`expected a LambdaError, got ${String(err)}`);
  return err;
}

/** 130 small segments over 3 partitions and 3 arrival hours: more than two listing pages. */
function segments(): MasterSegment[] {
  return Array.from({ length: 130 }, (_, i) => ({
    topic: 'clicks.v1',
    partition: i % 3,
    firstOffset: Math.floor(i / 3) * 10,
    arrivalTs: T0 + Math.floor(i / 50) * 3_600_000 + i,
    lines: Array.from({ length: 10 }, (_, k) => JSON.stringify({ id: `e-${i}-${k}`, ts: T0 + i * 1000 + k, url: `/p/${k}` })),
  }));
}

describe('S3 master dataset', () => {
  let bucket: TestBucket;
  let proxy: S3FaultProxy;
  let localDir: string;

  beforeAll(async () => {
    bucket = await createTestBucket();
    proxy = await S3FaultProxy.start(s3Overrides('s3://x/y').LAMBDA_S3_ENDPOINT as string);
    localDir = mkdtempSync(join(tmpdir(), 's3-vs-local-'));
  });
  afterAll(async () => {
    await proxy?.stop();
    await bucket?.cleanup();
    rmSync(localDir, { recursive: true, force: true });
  });

  it('writes the same keys and bytes as the local adapter and lists them across pages', async () => {
    const s3 = s3Dataset(bucket.url(PREFIX), { LAMBDA_S3_ENDPOINT: proxy.endpoint });
    const local = new LocalMasterDataset(join(localDir, 'a'));
    for (const seg of segments()) {
      const [a, b] = await Promise.all([s3.writeSegment(seg), local.writeSegment(seg)]);
      expect(a).toEqual(b);
    }
    proxy.seen.length = 0;
    const files = await s3.listFiles();
    expect(files).toHaveLength(130);
    expect(files).toEqual(await local.listFiles());
    // 130 keys at 50 a page: three ListObjectsV2 calls, two of them with a continuation token.
    const lists = proxy.seen.filter((r) => r.method === 'GET' && r.query.includes('list-type=2'));
    expect(lists).toHaveLength(3);
    expect(lists.filter((r) => r.query.includes('continuation-token=')).length).toBe(2);

    // Under the prefix, exactly the local layout; and the very same gzip bytes.
    const keys = await listAllKeys(bucket.client, bucket.name);
    expect(keys.sort()).toEqual(files.map((f) => `${PREFIX}/${f.key}`).sort());
    const first = files[0]!;
    const obj = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: `${PREFIX}/${first.key}` }));
    const { readFile } = await import('node:fs/promises');
    expect(Buffer.from(await obj.Body!.transformToByteArray()).equals(await readFile(join(localDir, 'a', first.key)))).toBe(true);

    const [fromS3, fromLocal] = await Promise.all([readMaster(s3), readMaster(local)]);
    expect(fromS3.total).toBe(1300);
    expect(fromS3.lines).toEqual(fromLocal.lines);
    s3.close();
  });

  it('rewrites the same coordinates idempotently and ignores objects that are not segments', async () => {
    const s3 = s3Dataset(bucket.url('idem'));
    const seg = segments()[7]!;
    const one = await s3.writeSegment(seg);
    const again = await s3.writeSegment(seg);
    expect(again).toEqual(one);
    await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'idem/events/arrival=2024-05-01T10/notes.txt', Body: 'x' }));
    await bucket.client.send(
      new PutObjectCommand({ Bucket: bucket.name, Key: 'idem-other/events/arrival=2024-05-01T10/clicks.v1-0-00000000000000000000.jsonl.gz', Body: 'x' }),
    );
    expect(await s3.listFiles()).toEqual([one]);
    expect((await readMaster(s3)).lines.get('clicks.v1-1')).toEqual(seg.lines);
    s3.close();
  });

  it('keeps checkpoints as small JSON objects, and reports a damaged one', async () => {
    const s3 = s3Dataset(bucket.url('cps'));
    expect(await s3.readCheckpoints()).toEqual([]);
    const cps = Array.from({ length: 12 }, (_, p) => ({
      topic: 'clicks.v1',
      partition: p,
      lastOffset: p * 10 - 1,
      completeThrough: T0 + p,
      updatedAt: T0 + 99,
    }));
    for (const cp of cps) await s3.writeCheckpoint(cp);
    await s3.writeCheckpoint({ ...cps[3]!, lastOffset: 500 }); // replaced, not added
    expect(await s3.readCheckpoints()).toEqual(cps.map((c) => (c.partition === 3 ? { ...c, lastOffset: 500 } : c)).sort((a, b) => a.partition - b.partition));
    const raw = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: 'cps/checkpoints/clicks.v1-0.json' }));
    expect(JSON.parse(await raw.Body!.transformToString())).toMatchObject({ version: 1, topic: 'clicks.v1', partition: 0, lastOffset: -1 });

    await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'cps/checkpoints/clicks.v1-5.json', Body: '{"version":1,' }));
    const err = await errorOf(s3.readCheckpoints());
    expect(err.code).toBe('STORAGE');
    expect(err.message).toContain('checkpoints/clicks.v1-5.json');
    s3.close();
  });

  it('uploads a large segment in parts and streams it back', async () => {
    const s3 = s3Dataset(bucket.url('big'), { LAMBDA_S3_ENDPOINT: proxy.endpoint });
    // Random payloads barely compress: about 1.2 x the threshold of gzip output.
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: `big-${i}`, ts: T0 + i, pad: randomBytes(3000).toString('base64') }));
    proxy.seen.length = 0;
    const file = await s3.writeSegment({ topic: 'clicks.v1', partition: 0, firstOffset: 0, arrivalTs: T0, lines });
    expect(file.sizeBytes).toBeGreaterThan(MULTIPART_THRESHOLD_BYTES);
    expect(proxy.seen.some((r) => r.method === 'POST' && r.query.startsWith('uploads'))).toBe(true);
    expect(proxy.seen.filter((r) => r.method === 'PUT' && r.query.includes('partNumber=')).length).toBeGreaterThanOrEqual(2);
    let n = 0;
    for await (const line of s3.readLines(file.key)) expect(line).toBe(lines[n++]);
    expect(n).toBe(lines.length);
    s3.close();
  });

  it('retries throttling and 5xx answers, then fails with a clear retriable error', async () => {
    const seg = segments()[0]!;
    const isPut = (r: { method: string }) => r.method === 'PUT';
    const patient = s3Dataset(bucket.url('retry'), { LAMBDA_S3_ENDPOINT: proxy.endpoint, LAMBDA_S3_MAX_ATTEMPTS: '4' });
    proxy.seen.length = 0;
    proxy.failNext(2, 503, 'SlowDown', isPut);
    proxy.failNext(1, 500, 'InternalError', isPut);
    await patient.writeSegment(seg);
    expect(proxy.seen.filter(isPut).map((r) => r.status)).toEqual([503, 503, 500, 200]);

    const impatient = s3Dataset(bucket.url('retry'), { LAMBDA_S3_ENDPOINT: proxy.endpoint, LAMBDA_S3_MAX_ATTEMPTS: '2' });
    proxy.failNext(2, 503, 'SlowDown', isPut);
    const err = await errorOf(impatient.writeSegment(seg));
    expect(err).toMatchObject({ code: 'DEPENDENCY_DOWN', retriable: true });
    expect(err.message).toContain('LAMBDA_S3_MAX_ATTEMPTS');
    expect(err.message).toContain('after 2 attempts');
    patient.close();
    impatient.close();
  });

  it('resumes a read whose connection drops half-way, and reports a missing object', async () => {
    const s3 = s3Dataset(bucket.url('resume'), { LAMBDA_S3_ENDPOINT: proxy.endpoint });
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: `r-${i}`, ts: T0 + i, pad: randomBytes(24).toString('hex') }));
    const file = await s3.writeSegment({ topic: 'clicks.v1', partition: 2, firstOffset: 40, arrivalTs: T0, lines });
    proxy.seen.length = 0;
    proxy.cutNextBody(Math.floor(file.sizeBytes / 3), (r) => r.method === 'GET' && r.path.endsWith(file.key));
    const read: string[] = [];
    for await (const line of s3.readLines(file.key)) read.push(line);
    expect(read).toEqual(lines);
    expect(proxy.seen.filter((r) => r.method === 'GET' && r.path.endsWith(file.key))).toHaveLength(2);

    const missing = file.key.replace('-00000000000000000040.', '-00000000000000000041.');
    const err = await errorOf(
      (async () => {
        for await (const _ of s3.readLines(missing)) void _;
      })(),
    );
    expect(err.code).toBe('NOT_FOUND');
    s3.close();
  });

  it('is what openMasterDataset returns for s3:// and describes itself by URL', () => {
    const master: MasterDataset = s3Dataset(`s3://${bucket.name}/${PREFIX}/`);
    expect(master).toBeInstanceOf(S3MasterDataset);
    expect(master.describe()).toBe(`s3://${bucket.name}/${PREFIX}`);
    (master as S3MasterDataset).close();
  });
});
