/**
 * A batch run (batch-layer/run, unchanged, with its worker threads) over an S3 master dataset that
 * takes several listing pages equals the same run over the same data on local disk: the same
 * counts, watermark and every bucket of every view, and both equal the reference fold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { LocalMasterDataset, openMasterDataset, type S3MasterDataset } from '../../adapters/master/index.js';
import { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import { runWiredBatch } from '../../cli/batch-wiring.js';
import { silentLogger } from '../../platform/logger.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { clickstreamLines, expectRunEqualsReference, T0, writeCheckpoints, writeSegments } from '../support/batch-master.js';
import { testContext, type TestContext } from '../support/context.js';
import { createTestBucket, s3Overrides, type TestBucket } from '../support/s3-bucket.js';
import { S3FaultProxy } from '../support/s3-fault-proxy.js';

// 4042 lines in 140 non-empty segments: three listing pages (50, 50, 40).
const FILES = 140;
const PAGE = 50;
const views = defaultViewSet();

describe('batch run over S3 vs local disk', () => {
  let bucket: TestBucket;
  let proxy: S3FaultProxy;
  let local: TestContext;
  let remote: TestContext;
  const stores: SqliteBatchViewStore[] = [];

  beforeAll(async () => {
    bucket = await createTestBucket();
    // In front of S3, to count the listing pages the run (and its workers) asked for.
    proxy = await S3FaultProxy.start(s3Overrides('s3://x/y').LAMBDA_S3_ENDPOINT as string);
    local = testContext({ LAMBDA_BATCH_WORKERS: '2', LAMBDA_TOPIC_PARTITIONS: '2' });
    remote = testContext(
      s3Overrides(bucket.url('lake/master'), {
        LAMBDA_S3_ENDPOINT: proxy.endpoint,
        LAMBDA_S3_LIST_PAGE_SIZE: String(PAGE),
        LAMBDA_BATCH_WORKERS: '2',
        LAMBDA_TOPIC_PARTITIONS: '2',
        LAMBDA_TOPIC: local.config.kafka.topic,
      }),
    );
  });
  afterAll(async () => {
    for (const s of stores) s.close();
    await proxy.stop();
    await bucket.cleanup();
    local.cleanup();
    remote.cleanup();
  });

  it('publishes the same run from S3 as from local files', async () => {
    const lines = clickstreamLines(4000);
    lines.push(...lines.slice(0, 40), 'not json', '{"id": "no-ts"}'); // cross-file duplicates, invalid lines
    const topic = local.config.kafka.topic;
    const A = T0 + 3 * 3_600_000;
    const onDisk = new LocalMasterDataset(fileURLToPath(local.config.masterUrl));
    const inS3 = openMasterDataset(remote.config, silentLogger()) as S3MasterDataset;
    expect(await writeSegments(inS3, lines, { topic, files: FILES })).toEqual(await writeSegments(onDisk, lines, { topic, files: FILES }));
    await writeCheckpoints(onDisk, topic, 2, A);
    await writeCheckpoints(inS3, topic, 2, A);

    const fromDisk = await runWiredBatch({ config: local.config, views, master: onDisk, log: silentLogger() });
    proxy.seen.length = 0;
    const fromS3 = await runWiredBatch({ config: remote.config, views, master: inS3, log: silentLogger() });
    inS3.close();

    // The S3 run listed page by page, and its workers streamed every object.
    const lists = proxy.seen.filter((r) => r.method === 'GET' && r.query.includes('list-type=2') && r.query.includes('events'));
    expect(lists.length).toBe(Math.ceil(FILES / PAGE));
    expect(proxy.seen.filter((r) => r.method === 'GET' && r.path.endsWith('.jsonl.gz')).length).toBe(FILES);

    expect(fromS3.counts).toEqual(fromDisk.counts);
    expect(fromS3.counts.files).toBe(FILES);
    expect(fromS3.counts.eventsRead).toBe(lines.length);
    expect(fromS3.watermark).toBe(fromDisk.watermark);
    expect(fromS3.arrivalComplete).toBe(A);
    expect(fromS3.viewsHash).toBe(fromDisk.viewsHash);

    const diskStore = new SqliteBatchViewStore(local.config.batch.dir);
    const s3Store = new SqliteBatchViewStore(remote.config.batch.dir);
    stores.push(diskStore, s3Store);
    for (const view of views.views) {
      for (const granularity of view.granularities) {
        const q = { view: view.name, granularity, from: T0 - 2 * 86_400_000, to: T0 + 2 * 86_400_000 };
        expect(s3Store.series(q), `${view.name}/${granularity}`).toEqual(diskStore.series(q));
      }
    }
    expect(expectRunEqualsReference(s3Store.openRun(), views, lines)).toBe(fromS3.counts.groups);
  });
});
