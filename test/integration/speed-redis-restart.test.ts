/**
 * Redis dies mid-stream (SIGKILL of a redis-server of the test's own, AOF on) and comes back: the
 * speed layer retries with backoff instead of crashing or advancing, and ends equal to the
 * reference fold. And when Redis comes back with older state (writes lost), the consumer notices
 * and re-applies from what Redis holds. (KEYS is fine here: the test's own server.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { ensureTopics } from '../../adapters/kafka/topics.js';
import { allKeyPatterns } from '../../adapters/redis/keys.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { createSpeedLayer } from '../../cli/speed-wiring.js';
import type { SpeedLayer } from '../../speed-layer/speed-layer.js';
import { clickRecords, deleteTopics, produceAll, testKafka } from '../support/archiver-kafka.js';
import { startRedisServer, type OwnRedisServer } from '../support/redis-server.js';
import { appliedCount, readAllViews, speedContext, viewStore, waitCaughtUp, expectEqualsReference } from '../support/speed-harness.js';
import { waitUntil } from '../support/wait.js';
import type { TestContext } from '../support/context.js';

const views = defaultViewSet();

describe('speed layer when Redis restarts', () => {
  let server: OwnRedisServer;
  let ctx: TestContext;
  let kafka: Kafka;
  let redis: Redis;
  let layer: SpeedLayer | null = null;

  afterEach(async () => {
    await layer?.stop();
    await deleteTopics(kafka, [ctx.config.kafka.topic, ctx.config.kafka.dlqTopic]);
    redis.disconnect();
    await server.close();
    ctx.cleanup();
  });

  it('retries through the outage, does not crash, and ends equal to the reference', async () => {
    server = await startRedisServer();
    ctx = speedContext({ REDIS_URL: server.url, LAMBDA_SPEED_APPLY_MAX_EVENTS: '50', LAMBDA_RETRY_MAX_MS: '500' });
    kafka = testKafka(ctx.config.kafka.brokers);
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    const { topic, partitions } = ctx.config.kafka;
    await ensureTopics(kafka, [{ topic, partitions }]);
    const records = clickRecords(3000, 13, Date.now() - 2 * 3_600_000);
    const send = (from: number, to: number) =>
      produceAll(
        kafka,
        topic,
        records.slice(from, to).map((r) => ({ key: r.key, value: r.value })),
        100,
      );
    const metrics = createMetrics();
    const redisRetries = async () =>
      (await metrics.registry.getSingleMetric('lambda_speed_retries_total')?.get())?.values.find((v) => v.labels.dependency === 'redis')?.value ?? 0;

    layer = createSpeedLayer({ config: ctx.config, views, log: silentLogger(), metrics, statusIntervalMs: 200 });
    await layer.start();
    await send(0, 1000);
    await waitUntil(
      () => appliedCount(redis, ctx.config.redis.keyPrefix, partitions),
      (n) => n > 0,
      { what: 'first applies' },
    );

    await server.kill();
    await send(1000, 2000);
    await waitUntil(redisRetries, (n) => n >= 3, { what: 'the speed layer to retry against the dead Redis', timeoutMs: 60_000 });

    await server.start();
    await send(2000, 3000);
    await waitCaughtUp(kafka, redis, ctx.config, 120_000);
    const actual = await readAllViews(viewStore(redis, ctx.config, views), views);
    expectEqualsReference(
      actual,
      records.map((r) => r.value),
      views,
    );
  });

  it('seeks back and re-applies when Redis comes back with older state (lost writes), even with no new records', async () => {
    server = await startRedisServer();
    ctx = speedContext({ REDIS_URL: server.url, LAMBDA_SPEED_APPLY_MAX_EVENTS: '100' });
    kafka = testKafka(ctx.config.kafka.brokers);
    redis = new Redis(server.url);
    const { topic, partitions } = ctx.config.kafka;
    await ensureTopics(kafka, [{ topic, partitions }]);
    const records = clickRecords(2000, 17, Date.now() - 2 * 3_600_000);
    const send = (from: number, to: number) =>
      produceAll(
        kafka,
        topic,
        records.slice(from, to).map((r) => ({ key: r.key, value: r.value })),
        100,
      );
    layer = createSpeedLayer({ config: ctx.config, views, log: silentLogger(), metrics: createMetrics(), statusIntervalMs: 200 });
    await layer.start();
    await send(0, 1000);
    await waitCaughtUp(kafka, redis, ctx.config);
    const snapshot = await snapshotPrefix(redis, ctx.config.redis.keyPrefix);
    await send(1000, 2000);
    await waitCaughtUp(kafka, redis, ctx.config);

    // Redis "restarts" from an older but consistent state, as after a crash with appendfsync everysec.
    await restorePrefix(redis, ctx.config.redis.keyPrefix, snapshot);
    expect(await appliedCount(redis, ctx.config.redis.keyPrefix, partitions)).toBe(1000);
    await waitCaughtUp(kafka, redis, ctx.config);
    const actual = await readAllViews(viewStore(redis, ctx.config, views), views);
    expectEqualsReference(
      actual,
      records.map((r) => r.value),
      views,
    );
  });
});

type Snapshot = { key: string; pttl: number; dump: Buffer }[];

async function snapshotPrefix(redis: Redis, prefix: string): Promise<Snapshot> {
  const out: Snapshot = [];
  for (const pattern of allKeyPatterns(prefix)) {
    for (const key of await redis.keys(pattern)) {
      const [dump, pttl] = await Promise.all([redis.dumpBuffer(key), redis.pttl(key)]);
      if (dump !== null) out.push({ key, pttl, dump });
    }
  }
  return out;
}

/** Replaces every key of the prefix by the snapshot, atomically (MULTI). */
async function restorePrefix(redis: Redis, prefix: string, snapshot: Snapshot): Promise<void> {
  const current: string[] = [];
  for (const pattern of allKeyPatterns(prefix)) current.push(...(await redis.keys(pattern)));
  const tx = redis.multi();
  if (current.length > 0) tx.del(...current);
  for (const s of snapshot) tx.restore(s.key, s.pttl > 0 ? s.pttl : 0, s.dump, 'REPLACE');
  await tx.exec();
}
