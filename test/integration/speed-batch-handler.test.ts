/**
 * The batch handler's own guards, driven batch by batch against real Redis (and Kafka for the
 * DLQ): fetched batches that start below the offset Redis holds (a replay, a group reset, a
 * zombie's leftovers), straddle it, or start above it (Redis lost writes) must apply each record
 * exactly once. kafkajs decides which batches arrive, so here the batches are handed in directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import { EventProducer } from '../../adapters/kafka/producer.js';
import { ensureTopics } from '../../adapters/kafka/topics.js';
import { partitionStateKey } from '../../adapters/redis/keys.js';
import { retentionPolicy } from '../../adapters/redis/retention.js';
import { RedisSpeedStateStore } from '../../adapters/redis/speed-state-store.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import { referenceFold } from '../../shared/reference-fold.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { BatchHandler } from '../../speed-layer/batch-handler.js';
import { ProgressTracker } from '../../speed-layer/progress.js';
import { clickRecords, deleteTopics, testKafka } from '../support/archiver-kafka.js';
import { deletePrefix, diffFromReference, readAllViews, speedContext, viewStore } from '../support/speed-harness.js';
import type { TestContext } from '../support/context.js';

const views = defaultViewSet();
const PARTITION = 0;

interface Calls {
  seeks: number[];
  resolved: number[];
}

/**
 * The part of kafkajs's EachBatchPayload the handler uses, built from records. The cast is
 * needed because Batch also carries methods (offsetLag, isEmpty...) the handler never calls.
 */
function payload(records: { offset: number; key: string | null; value: string }[], calls: Calls): EachBatchPayload {
  const last = records[records.length - 1]?.offset ?? 0;
  const batch = {
    topic: 'unused',
    partition: PARTITION,
    highWatermark: String(last + 1),
    messages: records.map((r) => ({ offset: String(r.offset), key: r.key === null ? null : Buffer.from(r.key), value: Buffer.from(r.value), timestamp: '0', attributes: 0, headers: {} })),
  };
  return {
    batch,
    resolveOffset: (o: string) => void calls.resolved.push(Number(o)),
    heartbeat: async () => undefined,
    pause: () => () => undefined,
    commitOffsetsIfNecessary: async () => undefined,
    uncommittedOffsets: () => ({ topics: [] }),
    isRunning: () => true,
    isStale: () => false,
  } as unknown as EachBatchPayload;
}

describe('speed batch handler guards', () => {
  let ctx: TestContext;
  let kafka: Kafka;
  let redis: Redis;
  let producer: EventProducer;

  beforeAll(async () => {
    ctx = speedContext({ LAMBDA_SPEED_APPLY_MAX_EVENTS: '64' });
    kafka = testKafka(ctx.config.kafka.brokers);
    redis = new Redis(ctx.config.redis.url);
    await ensureTopics(kafka, [{ topic: ctx.config.kafka.dlqTopic, partitions: 1 }]);
    producer = new EventProducer(kafka);
    await producer.start();
  });

  afterAll(async () => {
    await producer.stop();
    await deleteTopics(kafka, [ctx.config.kafka.dlqTopic]);
    await deletePrefix(redis, ctx.config.redis.keyPrefix);
    redis.disconnect();
    ctx.cleanup();
  });

  it('applies every record once whether batches start below, across or above the stored offset', async () => {
    const { config } = ctx;
    const store = new RedisSpeedStateStore(redis, config.redis.keyPrefix, retentionPolicy(config), config.speed.dedupeTtlSeconds);
    const positions = new Map<number, number>();
    const calls: Calls = { seeks: [], resolved: [] };
    const handler = new BatchHandler({
      topic: config.kafka.topic,
      dlqTopic: config.kafka.dlqTopic,
      prefix: config.redis.keyPrefix,
      views,
      dedupe: true,
      applyMaxEvents: config.speed.applyMaxEvents,
      retry: config.retry,
      store,
      producer,
      metrics: createMetrics(),
      log: silentLogger(),
      progress: new ProgressTracker('test', createMetrics()),
      positions,
      ensurePartition: (p) => store.initPartition(config.kafka.topic, p, { next: 0, coveredSince: 0 }),
      seek: (_p, offset) => void calls.seeks.push(offset),
      stopping: () => false,
    });
    const records = clickRecords(600, 5, Date.now() - 3_600_000).map((r, offset) => ({ offset, key: r.key, value: r.value }));
    const stored = async () => Number(await redis.hget(partitionStateKey(config.redis.keyPrefix, PARTITION), 'next'));

    // First batch ever: the partition has no state yet -> initialise, seek to it, apply nothing.
    await handler.handle(payload(records.slice(0, 300), calls));
    expect(calls.seeks).toEqual([0]);
    expect(await stored()).toBe(0);

    await handler.handle(payload(records.slice(0, 300), calls));
    expect(await stored()).toBe(300);

    // A batch across the stored offset: only 300..399 are new.
    await handler.handle(payload(records.slice(0, 400), calls));
    expect(await stored()).toBe(400);

    // Entirely below and far behind (a group reset to 0): jump to the stored offset.
    await handler.handle(payload(records.slice(0, 200), calls));
    expect(calls.seeks).toEqual([0, 400]);

    // The consumer believes it is at 500 but Redis holds 400 (lost writes): seek back, apply nothing.
    positions.set(PARTITION, 500);
    await handler.handle(payload(records.slice(450, 600), calls));
    expect(calls.seeks).toEqual([0, 400, 400]);
    expect(await stored()).toBe(400);

    await handler.handle(payload(records.slice(400, 600), calls));
    expect(await stored()).toBe(600);
    expect(calls.resolved.at(-1)).toBe(599);

    const actual = await readAllViews(viewStore(redis, config, views), views);
    expect(diffFromReference(actual, referenceFold(records.map((r) => r.value), views), views)).toEqual([]);
  });
});
