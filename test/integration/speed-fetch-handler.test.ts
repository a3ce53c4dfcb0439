/**
 * The batch handler's own guards, driven batch by batch against real Redis (and Kafka for the
 * DLQ): fetched batches that start below the offset Redis holds (a replay, a group reset, a
 * zombie's leftovers), straddle it, or start above it (Redis lost writes) must apply each record
 * exactly once. kafkajs decides which batches arrive, so here the batches are handed in directly.
 */
import { ConsumerPositions } from '../../speed-layer/consumer-positions.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { ConsumedBatch } from '../../shared/kafka-ports.js';
import { fetchedBatch } from '../support/fetch-handler-fakes.js';
import { KafkaDeadLetterSink } from '../../adapters/kafka/dead-letter-sink.js';
import { EventProducer } from '../../adapters/kafka/producer.js';
import { ensureTopics, logStartOffsets } from '../../adapters/kafka/topics.js';
import { partitionStateKey } from '../../adapters/redis/keys.js';
import { retentionPolicy } from '../../shared/speed/retention.js';
import { RedisSpeedStateStore } from '../../adapters/redis/speed-state-store.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { FetchHandler } from '../../speed-layer/fetch-handler.js';
import { ProgressTracker } from '../../speed-layer/progress.js';
import { ReplayNotes } from '../../speed-layer/replays.js';
import { clickRecords, deleteTopics, produceAll, testKafka } from '../support/archiver-kafka.js';
import { deletePrefix, readAllViews, speedContext, viewStore, expectEqualsReference } from '../support/speed-harness.js';
import type { TestContext } from '../support/context.js';

const views = defaultViewSet();
const PARTITION = 0;

interface Calls {
  seeks: number[];
  resolved: number[];
}

/** A fetched batch of PARTITION holding `records` (fetched from the first of them unless said). */
function payload(records: { offset: number; key: string | null; value: string; timestamp?: number }[], calls: Calls, fetchedOffset?: number): ConsumedBatch {
  const last = records[records.length - 1]?.offset ?? 0;
  return fetchedBatch(
    records.map((r) => ({ ...r, timestamp: r.timestamp ?? Date.now() })),
    { highWatermark: last + 1, resolveOffset: (o) => void calls.resolved.push(Number(o)), ...(fetchedOffset !== undefined ? { fetchedOffset } : {}) },
  );
}

type Config = TestContext['config'];

function handlerFor(config: Config, logStartOffset: (p: number) => Promise<number>) {
  const store = new RedisSpeedStateStore(redis(), config.redis.keyPrefix, retentionPolicy(config), config.speed.dedupeWindowMs);
  const calls: Calls = { seeks: [], resolved: [] };
  const positions = new ConsumerPositions((_p, offset) => void calls.seeks.push(offset));
  const handler = new FetchHandler({
    topic: config.kafka.topic,
    prefix: config.redis.keyPrefix,
    views,
    dedupe: true,
    dedupeWindowMs: config.speed.dedupeWindowMs,
    allowedLatenessMs: config.allowedLatenessMs,
    applyMaxEvents: config.speed.applyMaxEvents,
    retry: config.retry,
    store,
    deadLetters: new KafkaDeadLetterSink(producer(), config.kafka.dlqTopic),
    metrics: createMetrics(),
    log: silentLogger(),
    progress: new ProgressTracker('test', createMetrics()),
    replays: new ReplayNotes({ store, instance: 'test', metrics: createMetrics(), log: silentLogger() }),
    positions,
    ensurePartition: (p) => store.initPartition(config.kafka.topic, p, { next: 0, coveredSince: 0 }),
    logStartOffset,
    stopping: () => false,
  });
  return { store, positions, calls, handler };
}

let sharedRedis: Redis | null = null;
let sharedProducer: EventProducer | null = null;
const redis = () => sharedRedis as Redis;
const producer = () => sharedProducer as EventProducer;

describe('speed batch handler guards', () => {
  let ctx: TestContext;
  let kafka: Kafka;
  let redis: Redis;
  let producer: EventProducer;

  beforeAll(async () => {
    ctx = speedContext({ LAMBDA_SPEED_APPLY_MAX_EVENTS: '64' });
    kafka = testKafka(ctx.config.kafka.brokers);
    redis = new Redis(ctx.config.redis.url);
    sharedRedis = redis;
    await ensureTopics(kafka, [
      { topic: ctx.config.kafka.topic, partitions: 1 },
      { topic: ctx.config.kafka.dlqTopic, partitions: 1 },
    ]);
    producer = new EventProducer(kafka);
    sharedProducer = producer;
    await producer.start();
  });

  afterAll(async () => {
    await producer.stop();
    await deleteTopics(kafka, [ctx.config.kafka.topic]);
    await deleteTopics(kafka, [ctx.config.kafka.dlqTopic]);
    await deletePrefix(redis, ctx.config.redis.keyPrefix);
    redis.disconnect();
    ctx.cleanup();
  });

  it('applies every record once whether batches start below, across or above the stored offset', async () => {
    const { config } = ctx;
    const { positions, calls, handler } = handlerFor(config, async () => 0);
    const records = clickRecords(600, 5, Date.now() - 3_600_000).map((r, offset) => ({ offset, key: r.key, value: r.value }));
    const stored = async () => Number(await redis.hget(partitionStateKey(config.redis.keyPrefix, PARTITION), 'next'));
    await deletePrefix(redis, config.redis.keyPrefix);

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
    positions.advanced(PARTITION, 500);
    await handler.handle(payload(records.slice(450, 600), calls));
    expect(calls.seeks).toEqual([0, 400, 400]);
    expect(await stored()).toBe(400);
    // ... and says so where the status page reads it: the 100 records it applies again.
    expect((await viewStore(redis, config, views).status()).replays).toEqual([
      { partition: PARTITION, from: 400, to: 500, records: 100, detectedAt: expect.any(Number) as number, instance: 'test', detectedBy: 'fetch' },
    ]);

    await handler.handle(payload(records.slice(400, 600), calls));
    expect(await stored()).toBe(600);
    expect(calls.resolved.at(-1)).toBe(599);

    const actual = await readAllViews(viewStore(redis, config, views), views);
    expectEqualsReference(
      actual,
      records.map((r) => r.value),
      views,
    );
  });

  it('accepts an offset gap only when Kafka has deleted the records in it, and records the loss', async () => {
    const { config } = ctx;
    await deletePrefix(redis, config.redis.keyPrefix);
    const t0 = Date.now() - 3_600_000;
    const records = clickRecords(100, 9, t0).map((r, offset) => ({ offset, key: r.key, value: r.value, timestamp: t0 + 60_000 + offset }));
    await produceAll(
      kafka,
      config.kafka.topic,
      records.map((r) => ({ key: r.key, value: r.value })),
    );
    const { positions, calls, handler } = handlerFor(config, async (p) => (await logStartOffsets(kafka, config.kafka.topic)).get(p) ?? 0);
    const state = async () => redis.hgetall(partitionStateKey(config.redis.keyPrefix, PARTITION));

    await handler.handle(payload(records.slice(0, 50), calls)); // first batch: initialise, seek to 0
    expect(positions.of(PARTITION)).toBe(0);

    // Right after the seek to 0 a fetch returns 50..99 (it was under way before the seek). Kafka
    // still holds 0..49, so this is no gap: seek to 0 again and apply nothing.
    await handler.handle(payload(records.slice(50), calls));
    expect(calls.seeks).toEqual([0, 0]);
    expect((await state()).next).toBe('0');

    // Retention deletes 0..49 before they were read: now the gap is real, applied past and recorded.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.fetchTopicMetadata({ topics: [config.kafka.topic] }); // kafkajs needs it loaded first
      await admin.deleteTopicRecords({ topic: config.kafka.topic, partitions: [{ partition: PARTITION, offset: '50' }] });
    } finally {
      await admin.disconnect();
    }
    await handler.handle(payload(records.slice(50), calls));
    const after = await state();
    expect(after.next).toBe('100');
    expect(after.lostOffsets).toBe('50');
    expect(JSON.parse(after.lastLost ?? 'null')).toEqual({ from: 0, to: 50, untilTs: t0 + 60_050 });
    expect(Number(after.coveredSince)).toBe(t0 + 60_050);
    const status = await viewStore(redis, config, views).status();
    expect(status.partitions[0]).toMatchObject({ partition: PARTITION, offset: 100, lastLost: { from: 0, to: 50 }, totals: { lostOffsets: 50 } });
  });

  it('goes on past offsets that hold no records (control records) only when the fetch asked for them', async () => {
    const { config } = ctx;
    await deletePrefix(redis, config.redis.keyPrefix);
    const records = clickRecords(30, 11, Date.now() - 3_600_000).map((r, offset) => ({ offset, key: r.key, value: r.value }));
    // Offsets 10..19 are no records (a transaction's markers, say): Kafka's log still starts at 0.
    const { calls, handler } = handlerFor(config, async () => 0);
    const state = async () => redis.hgetall(partitionStateKey(config.redis.keyPrefix, PARTITION));
    await handler.handle(payload(records.slice(0, 10), calls)); // initialise, seek to 0
    await handler.handle(payload(records.slice(0, 10), calls));
    expect((await state()).next).toBe('10');
    // A fetch from 20 (issued before a seek), delivered twice: it says nothing about 10..19. Each
    // time the handler seeks to 10 and applies nothing (a "same gap twice" rule skipped 10..19 here).
    await handler.handle(payload(records.slice(20), calls, 20));
    await handler.handle(payload(records.slice(20), calls, 20));
    expect(calls.seeks).toEqual([0, 10, 10]);
    expect((await state()).next).toBe('10');
    // Fetched from 10, the first record is 20: there is nothing at 10..19. Apply, nothing lost.
    await handler.handle(payload(records.slice(20), calls, 10));
    const after = await state();
    expect(after.next).toBe('30');
    expect(after.lostOffsets).toBeUndefined();
    expect(calls.seeks).toEqual([0, 10, 10]);
  });
});
