/**
 * Archive gaps (issue 12, hole 7's batch side), against a real Kafka: offsets that Kafka deleted
 * (kafkajs deleteTopicRecords, as retention would) before the archiver read them are recorded in the
 * partition's checkpoint, for a partition never archived before as well as one resumed from its
 * checkpoint, and the next batch run lists them in its record.
 */
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMasterDataset } from '../../adapters/master/index.js';
import type { Archiver } from '../../batch-layer/archiver/archiver.js';
import { createArchiver } from '../../cli/archiver-wiring.js';
import { runWiredBatch } from '../../cli/batch-wiring.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import type { MasterDataset } from '../../shared/ports.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { deleteTopics, produceAll, testKafka } from '../support/archiver-kafka.js';
import { testContext, type TestContext } from '../support/context.js';
import { checkpointsCover, readMaster } from '../support/master-read.js';
import { waitUntil } from '../support/wait.js';

const views = defaultViewSet();

function records(from: number, n: number): { key: string; value: string }[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return { key: `g-${i}`, value: JSON.stringify({ id: `g-${i}`, ts: Date.now() - 60_000, type: 'pageview', url: `/g/${i % 3}`, user: `u${i % 5}` }) };
  });
}

async function deleteBefore(kafka: Kafka, topic: string, offset: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.fetchTopicMetadata({ topics: [topic] }); // kafkajs needs the leaders known first
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: String(offset) }] });
  } finally {
    await admin.disconnect();
  }
}

describe('archive gaps', () => {
  let ctx: TestContext;
  let kafka: Kafka;
  let master: MasterDataset;
  let archiver: Archiver | null = null;
  const newArchiver = () => createArchiver({ config: ctx.config, log: silentLogger(), metrics: createMetrics(), views, master });

  beforeAll(async () => {
    ctx = testContext({ LAMBDA_TOPIC_PARTITIONS: '1', LAMBDA_ARCHIVER_FLUSH_MS: '200', LAMBDA_KAFKA_SESSION_TIMEOUT_MS: '6000', LAMBDA_BATCH_WORKERS: '1' });
    kafka = testKafka(ctx.config.kafka.brokers);
    master = openMasterDataset(ctx.config, silentLogger());
    const admin = kafka.admin();
    await admin.connect();
    await admin
      .createTopics({ waitForLeaders: true, topics: [{ topic: ctx.config.kafka.topic, numPartitions: 1, replicationFactor: -1 }] })
      .finally(() => admin.disconnect());
  });
  afterAll(async () => {
    await archiver?.stop();
    await deleteTopics(kafka, [ctx.config.kafka.topic, ctx.config.kafka.dlqTopic]);
    ctx.cleanup();
  });

  it('records offsets deleted before they were archived in the checkpoint and in the next batch run', async () => {
    const { topic } = ctx.config.kafka;
    // Never archived before: offsets 0..59 are deleted before the archiver starts.
    await produceAll(kafka, topic, records(0, 100));
    await deleteBefore(kafka, topic, 60);
    archiver = newArchiver();
    await archiver.start();
    await waitUntil(() => checkpointsCover(master, topic, new Map([[0, 100]])), Boolean, { what: 'the checkpoint covering offset 99', timeoutMs: 60_000 });
    let [cp] = await master.readCheckpoints();
    expect(cp?.gaps).toEqual([{ topic, partition: 0, fromOffset: 0, toOffset: 59, detectedAt: expect.any(Number) }]);
    expect((await readMaster(master)).total).toBe(40);

    // Resumed from a checkpoint: 100..129 are deleted while the archiver is stopped.
    await archiver.stop();
    archiver = null;
    await produceAll(kafka, topic, records(100, 50));
    await deleteBefore(kafka, topic, 130);
    archiver = newArchiver();
    await archiver.start();
    await waitUntil(() => checkpointsCover(master, topic, new Map([[0, 150]])), Boolean, { what: 'the checkpoint covering offset 149', timeoutMs: 60_000 });
    [cp] = await master.readCheckpoints();
    expect(cp?.gaps?.map((g) => [g.fromOffset, g.toOffset])).toEqual([
      [0, 59],
      [100, 129],
    ]);
    expect((await readMaster(master)).total).toBe(60);
    // The idle heartbeat rewrites the checkpoint: the gaps stay in it.
    const beat = cp?.updatedAt ?? 0;
    await waitUntil(
      async () => (await master.readCheckpoints())[0],
      (c) => (c?.updatedAt ?? 0) > beat,
      { what: 'a heartbeat checkpoint' },
    );
    expect((await master.readCheckpoints())[0]?.gaps).toHaveLength(2);

    const record = await runWiredBatch({ config: ctx.config, views, master, log: silentLogger() });
    expect(record.completeness?.gaps.map((g) => [g.partition, g.fromOffset, g.toOffset])).toEqual([
      [0, 0, 59],
      [0, 100, 129],
    ]);
    expect(record.counts.eventsKept).toBe(60);
  });
});
