/**
 * completeThrough claims only what is durable (issue 12, hole 3), against a real Kafka: on a
 * CreateTime topic whose producer timestamps go backwards, no checkpoint claims a time past a
 * record that is not archived yet; and the topic the service creates uses LogAppendTime.
 */
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicTimestampType } from '../../adapters/kafka/topics.js';
import { LocalMasterDataset } from '../../adapters/master/index.js';
import type { Archiver } from '../../batch-layer/archiver/archiver.js';
import { createArchiver } from '../../cli/archiver-wiring.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import type { Checkpoint } from '../../shared/ports.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { deleteTopics, testKafka } from '../support/archiver-kafka.js';
import { testContext, type TestContext } from '../support/context.js';
import { checkpointsCover } from '../support/master-read.js';
import { waitUntil } from '../support/wait.js';

const views = defaultViewSet();

/** The real local dataset, remembering every checkpoint written, in order. */
class WatchedMaster extends LocalMasterDataset {
  readonly written: Checkpoint[] = [];
  override async writeCheckpoint(cp: Checkpoint): Promise<void> {
    await super.writeCheckpoint(cp);
    this.written.push(cp);
  }
}

describe('archiver completeThrough', () => {
  const contexts: TestContext[] = [];
  let kafka: Kafka;
  const topics: string[] = [];
  let archiver: Archiver | null = null;

  beforeAll(() => {
    contexts.push(
      testContext({
        LAMBDA_TOPIC_PARTITIONS: '1',
        LAMBDA_ARCHIVER_FLUSH_EVENTS: '100',
        LAMBDA_ARCHIVER_FLUSH_MS: '200',
        LAMBDA_KAFKA_SESSION_TIMEOUT_MS: '6000',
      }),
    );
    kafka = testKafka((contexts[0] as TestContext).config.kafka.brokers);
  });
  afterAll(async () => {
    await archiver?.stop();
    await deleteTopics(kafka, topics);
    for (const c of contexts) c.cleanup();
  });

  it('never claims a time past an unarchived record when CreateTime timestamps go backwards', async () => {
    const ctx = contexts[0] as TestContext;
    const { topic, dlqTopic } = ctx.config.kafka;
    topics.push(topic, dlqTopic);
    const admin = kafka.admin();
    await admin.connect();
    await admin
      .createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: 1, replicationFactor: -1, configEntries: [{ name: 'message.timestamp.type', value: 'CreateTime' }] }],
      })
      .finally(() => admin.disconnect());
    // Offsets 0..99 stamped up to now; 100..199 stamped an hour ago (a producer with a late clock).
    const now = Date.now();
    const stamps = Array.from({ length: 200 }, (_, i) => (i < 100 ? now - 100 + i : now - 3_600_000 + i));
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: stamps.map((ts, i) => ({
        partition: 0,
        key: `c-${i}`,
        timestamp: String(ts),
        value: JSON.stringify({ id: `c-${i}`, ts, type: 'pageview', url: '/c', user: 'u' }),
      })),
    });
    await producer.disconnect();

    const master = new WatchedMaster(`${ctx.dataDir}/master`);
    archiver = createArchiver({ config: ctx.config, log: silentLogger(), metrics: createMetrics(), views, master });
    await archiver.start();
    await waitUntil(() => checkpointsCover(master, topic, new Map([[0, 200]])), Boolean, { what: 'the checkpoint covering offset 199', timeoutMs: 60_000 });

    expect(master.written.length).toBeGreaterThan(1); // a checkpoint after 100 records, another after 200
    for (const cp of master.written) {
      const unarchived = stamps.filter((_, offset) => offset > cp.lastOffset);
      if (unarchived.length === 0) continue;
      expect(cp.completeThrough, `checkpoint at offset ${cp.lastOffset}`).toBeLessThan(Math.min(...unarchived));
    }
    // Once everything is archived and the end was seen, completeness moves on to about now.
    const last = master.written.at(-1) as Checkpoint;
    expect(last.completeThrough).toBeGreaterThanOrEqual(now);
  });

  it('creates the event topic with message.timestamp.type=LogAppendTime', async () => {
    const ctx = testContext({ LAMBDA_TOPIC_PARTITIONS: '1' });
    contexts.push(ctx);
    topics.push(ctx.config.kafka.topic, ctx.config.kafka.dlqTopic);
    await archiver?.stop();
    archiver = createArchiver({
      config: ctx.config,
      log: silentLogger(),
      metrics: createMetrics(),
      views,
      master: new LocalMasterDataset(`${ctx.dataDir}/master`),
    });
    await archiver.start();
    expect(await topicTimestampType(kafka, ctx.config.kafka.topic)).toBe('LogAppendTime');
  });
});
