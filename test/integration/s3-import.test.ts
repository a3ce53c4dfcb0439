/**
 * Backfill import (batch-layer/import, unchanged) onto an S3 master dataset: the same segments and
 * checkpoint as a local import of the same file, and importing it again rewrites the very same
 * objects (names and bytes), hours later too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { LocalMasterDataset, openMasterDataset, type S3MasterDataset } from '../../adapters/master/index.js';
import { importJsonl } from '../../batch-layer/import/index.js';
import { loadConfig } from '../../platform/config.js';
import { silentLogger } from '../../platform/logger.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { readMaster } from '../support/master-read.js';
import { createTestBucket, listAllKeys, s3Overrides, type TestBucket } from '../support/s3-bucket.js';

const views = defaultViewSet();
const HOUR = 3_600_000;

/** 2500 lines of history, a few of them bad. */
function history(): { text: string; valid: string[] } {
  const lines = Array.from({ length: 2500 }, (_, k) =>
    k % 400 === 7
      ? '{"id": "broken'
      : JSON.stringify({ id: `h-${k}`, ts: 1_700_000_000_000 + k * 1000, type: 'pageview', url: `/p/${k % 9}`, user: `u${k % 17}` }),
  );
  return { text: `${lines.join('\n')}\n`, valid: lines.filter((l) => !l.includes('broken')) };
}

describe('import onto S3', () => {
  let bucket: TestBucket;
  let dir: string;
  let master: S3MasterDataset;

  beforeAll(async () => {
    bucket = await createTestBucket();
    dir = mkdtempSync(join(tmpdir(), 's3-import-'));
    master = openMasterDataset(
      loadConfig(s3Overrides(bucket.url('history'), { LAMBDA_S3_LIST_PAGE_SIZE: '3' }), process.cwd()),
      silentLogger(),
    ) as S3MasterDataset;
  });
  afterAll(async () => {
    master.close();
    await bucket.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes what a local import writes, and the same objects again on a re-import', async () => {
    const { text, valid } = history();
    const file = join(dir, 'history.jsonl');
    writeFileSync(file, text);
    let clock = Date.UTC(2024, 0, 1, 10, 30);
    const now = () => clock;

    const report = await importJsonl(file, master, views, { segmentLines: 300, now });
    expect(report).toMatchObject({ linesRead: 2500, imported: valid.length, invalidCount: 2500 - valid.length, segments: 9 });
    const local = new LocalMasterDataset(join(dir, 'local'));
    const localReport = await importJsonl(file, local, views, { segmentLines: 300, now });
    expect({ ...report, file: '' }).toEqual({ ...localReport, file: '' });

    const files = await master.listFiles(); // 9 segments, 3 a page
    expect(files).toEqual(await local.listFiles());
    expect((await readMaster(master)).lines.get(`${report.topic}-0`)).toEqual(valid);
    expect(await master.readCheckpoints()).toEqual(await local.readCheckpoints());

    const bytesOf = async (key: string) => {
      const res = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: `history/${key}` }));
      return Buffer.from(await res.Body!.transformToByteArray());
    };
    const before = await Promise.all(files.map((f) => bytesOf(f.key)));
    const keysBefore = await listAllKeys(bucket.client, bucket.name);

    clock += 5 * HOUR; // a re-import hours later still files into the hour of the first one
    const again = await importJsonl(file, master, views, { segmentLines: 300, now });
    expect({ ...again, file: '' }).toEqual({ ...report, file: '' });
    expect(await master.listFiles()).toEqual(files);
    expect(await listAllKeys(bucket.client, bucket.name)).toEqual(keysBefore);
    const after = await Promise.all(files.map((f) => bytesOf(f.key)));
    after.forEach((b, i) => expect(b.equals(before[i]!), files[i]!.key).toBe(true));
    expect((await readMaster(master)).total).toBe(valid.length);
  });
});
