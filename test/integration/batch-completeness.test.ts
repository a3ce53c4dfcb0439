/**
 * What a batch run may claim (issue 12, holes 1 and 4), against a real Kafka and real master
 * dataset folders: W counts every partition the topic really has (not LAMBDA_TOPIC_PARTITIONS), a
 * partition without a checkpoint holds W back, Kafka being unreachable falls back to the
 * checkpointed + configured partitions and says so, and a batch-only deployment (history imported,
 * no archiver) serves its history from the batch views.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalMasterDataset } from '../../adapters/master/index.js';
import { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import { importJsonl } from '../../batch-layer/import/index.js';
import { runWiredBatch } from '../../cli/batch-wiring.js';
import { silentLogger } from '../../platform/logger.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { deleteTopics, testKafka } from '../support/archiver-kafka.js';
import { clickstreamLines, T0, writeSegments } from '../support/batch-master.js';
import { testContext, type TestContext } from '../support/context.js';
import { freePort } from '../support/free-port.js';

const views = defaultViewSet();
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const floorMinute = (t: number) => Math.floor(t / MINUTE) * MINUTE;

async function createTopic(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: -1 }] });
  } finally {
    await admin.disconnect();
  }
}

function masterOf(ctx: TestContext): LocalMasterDataset {
  return new LocalMasterDataset(fileURLToPath(ctx.config.masterUrl));
}

describe("batch watermark over the topic's real partitions", () => {
  let kafka: Kafka;
  const contexts: TestContext[] = [];
  const topics: string[] = [];
  const newContext = (env: Record<string, string> = {}) => {
    const ctx = testContext({ LAMBDA_TOPIC_PARTITIONS: '2', LAMBDA_BATCH_WORKERS: '1', ...env });
    contexts.push(ctx);
    return ctx;
  };

  beforeAll(() => {
    kafka = testKafka(newContext().config.kafka.brokers);
  });
  afterAll(async () => {
    await deleteTopics(kafka, topics);
    for (const c of contexts) c.cleanup();
  });

  it('takes A over all four partitions Kafka reports, although LAMBDA_TOPIC_PARTITIONS is 2', async () => {
    const ctx = newContext();
    const { topic } = ctx.config.kafka;
    topics.push(topic);
    await createTopic(kafka, topic, 4);
    const master = masterOf(ctx);
    await writeSegments(master, clickstreamLines(400), { topic, files: 4, partitions: 4 });
    const through = [T0 + 5 * HOUR, T0 + 6 * HOUR, T0 + 7 * HOUR, T0 + 2 * HOUR]; // partition 3 is behind
    for (const [partition, completeThrough] of through.entries())
      await master.writeCheckpoint({ topic, partition, lastOffset: 99, completeThrough, updatedAt: completeThrough });

    const record = await runWiredBatch({ config: ctx.config, views, master, log: silentLogger() });

    expect(record.arrivalComplete).toBe(T0 + 2 * HOUR);
    expect(record.watermark).toBe(floorMinute(T0 + 2 * HOUR - ctx.config.allowedLatenessMs));
    expect(record.completeness).toMatchObject({
      partitionsFrom: 'kafka',
      partitions: [0, 1, 2, 3],
      missingCheckpoints: [],
      arrivalFrom: 'archiver',
      watermarkFrom: 'arrival',
    });
  });

  it('holds W back (0, no earlier run) while a real partition has no checkpoint, then keeps the previous W', async () => {
    const ctx = newContext();
    const { topic } = ctx.config.kafka;
    topics.push(topic);
    await createTopic(kafka, topic, 3);
    const master = masterOf(ctx);
    await writeSegments(master, clickstreamLines(300), { topic, files: 2, partitions: 2 });
    for (const partition of [0, 1])
      await master.writeCheckpoint({ topic, partition, lastOffset: 99, completeThrough: T0 + 5 * HOUR, updatedAt: T0 + 5 * HOUR });

    const first = await runWiredBatch({ config: ctx.config, views, master, log: silentLogger() });
    expect(first.arrivalComplete).toBeNull();
    expect(first.watermark).toBe(0);
    expect(first.completeness).toMatchObject({ partitions: [0, 1, 2], missingCheckpoints: [2], watermarkFrom: 'none' });

    // Partition 2 gets its checkpoint: W moves; then a fourth partition appears without one: W stays.
    await master.writeCheckpoint({ topic, partition: 2, lastOffset: -1, completeThrough: T0 + 4 * HOUR, updatedAt: T0 + 4 * HOUR });
    const second = await runWiredBatch({ config: ctx.config, views, master, log: silentLogger() });
    expect(second.arrivalComplete).toBe(T0 + 4 * HOUR);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] }).finally(() => admin.disconnect());
    for (const partition of [0, 1, 2])
      await master.writeCheckpoint({ topic, partition, lastOffset: 99, completeThrough: T0 + 9 * HOUR, updatedAt: T0 + 9 * HOUR });
    const third = await runWiredBatch({ config: ctx.config, views, master, log: silentLogger() });
    expect(third.arrivalComplete).toBeNull();
    expect(third.watermark).toBe(second.watermark);
    expect(third.completeness).toMatchObject({ partitions: [0, 1, 2, 3], missingCheckpoints: [3], watermarkFrom: 'previous-run' });
  });

  it('falls back to the checkpointed and configured partitions when Kafka cannot be asked, and says so', async () => {
    const ctx = newContext({ KAFKA_BROKERS: `127.0.0.1:${await freePort()}` });
    const { topic } = ctx.config.kafka;
    const master = masterOf(ctx);
    await writeSegments(master, clickstreamLines(300), { topic, files: 3, partitions: 3 });
    // Three partitions have checkpoints (the configured count is 2); the third is the furthest behind.
    const through = [T0 + 5 * HOUR, T0 + 6 * HOUR, T0 + 3 * HOUR];
    for (const [partition, completeThrough] of through.entries())
      await master.writeCheckpoint({ topic, partition, lastOffset: 99, completeThrough, updatedAt: completeThrough });

    const record = await runWiredBatch({ config: ctx.config, views, master, log: silentLogger() });

    expect(record.arrivalComplete).toBe(T0 + 3 * HOUR);
    expect(record.completeness?.partitionsFrom).toBe('fallback');
    expect(record.completeness?.partitions).toEqual([0, 1, 2]);
    expect(record.completeness?.partitionsNote).toMatch(/could not be asked/);
  });
});

describe('a batch-only deployment serves imported history', () => {
  let ctx: TestContext;
  let store: SqliteBatchViewStore | null = null;
  beforeAll(() => {
    ctx = testContext({ LAMBDA_BATCH_WORKERS: '2' });
  });
  afterEach(() => store?.close());
  afterAll(() => ctx.cleanup());

  it('publishes W after the imported events, so every imported bucket is answered by the batch run', async () => {
    const start = floorMinute(Date.now() - 2 * DAY);
    const n = 20_000;
    const lines = Array.from({ length: n }, (_, i) =>
      JSON.stringify({ id: `imp-${i}`, ts: start + i * 1000, type: 'pageview', url: `/p/${i % 9}`, user: `u${i % 31}` }),
    );
    const file = join(ctx.dataDir, 'history.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const master = masterOf(ctx);
    const importedBefore = Date.now();
    const report = await importJsonl(file, master, views);
    expect(report.imported).toBe(n);

    const record = await runWiredBatch({ config: ctx.config, views, master, log: silentLogger() });

    const lastEvent = start + (n - 1) * 1000;
    expect(record.counts.eventsKept).toBe(n);
    expect(record.arrivalComplete).toBeGreaterThanOrEqual(importedBefore);
    expect(record.watermark).toBeGreaterThan(lastEvent);
    expect(record.completeness).toMatchObject({ arrivalFrom: 'imports', imports: { completed: 1 } });
    // Every imported hour is before the boundary floor_hour(W), so the serving layer takes it from the run.
    store = new SqliteBatchViewStore(ctx.config.batch.dir);
    expect(store.latestRun()?.watermark).toBe(record.watermark);
    const rows = store.series({ view: 'pageviews', granularity: 'hour', from: start - HOUR, to: lastEvent + HOUR });
    expect(rows.reduce((s, r) => s + (r.values.views ?? 0), 0)).toBe(n);
    expect(Math.max(...rows.map((r) => r.bucketStart)) + HOUR).toBeLessThanOrEqual(Math.floor(record.watermark / HOUR) * HOUR);
  });
});
