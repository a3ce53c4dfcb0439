/**
 * Two speed-layer instances in one consumer group: a second one joins mid-stream and the first
 * one leaves mid-stream. Partitions move between them through rebalances, and the views still
 * equal the reference fold exactly: no event lost, none applied twice.
 */
import { afterEach, describe, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { ensureTopics } from '../../adapters/kafka/topics.js';
import { speedStatusKey } from '../../adapters/redis/keys.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { createSpeedLayer } from '../../cli/speed-wiring.js';
import type { SpeedLayer } from '../../speed-layer/speed-layer.js';
import { clickRecords, deleteTopics, produceAll, testKafka } from '../support/archiver-kafka.js';
import { appliedCount, deletePrefix, readAllViews, speedContext, viewStore, waitCaughtUp, expectEqualsReference } from '../support/speed-harness.js';
import { waitUntil } from '../support/wait.js';
import type { TestContext } from '../support/context.js';

const views = defaultViewSet();

describe('speed layer group membership changes', () => {
  let ctx: TestContext;
  let kafka: Kafka;
  let redis: Redis;
  const layers: SpeedLayer[] = [];

  afterEach(async () => {
    for (const l of layers) await l.stop();
    await deleteTopics(kafka, [ctx.config.kafka.topic, ctx.config.kafka.dlqTopic]);
    await deletePrefix(redis, ctx.config.redis.keyPrefix);
    redis.disconnect();
    ctx.cleanup();
  });

  it('loses and doubles nothing when an instance joins and another leaves mid-stream', async () => {
    ctx = speedContext({ LAMBDA_TOPIC_PARTITIONS: '4', LAMBDA_SPEED_APPLY_MAX_EVENTS: '50' });
    kafka = testKafka(ctx.config.kafka.brokers);
    redis = new Redis(ctx.config.redis.url);
    const { topic, partitions } = ctx.config.kafka;
    await ensureTopics(kafka, [{ topic, partitions }]);
    const records = clickRecords(3600, 91, Date.now() - 2 * 3_600_000);
    const waves = [records.slice(0, 1200), records.slice(1200, 2400), records.slice(2400)];
    const send = (wave: typeof records) =>
      produceAll(
        kafka,
        topic,
        wave.map((r) => ({ key: r.key, value: r.value })),
        100,
      );
    const newLayer = () => {
      const l = createSpeedLayer({ config: ctx.config, views, log: silentLogger(), metrics: createMetrics(), statusIntervalMs: 200 });
      layers.push(l);
      return l;
    };
    const applied = () => appliedCount(redis, ctx.config.redis.keyPrefix, partitions);
    const instancesReporting = async () => {
      const status = await redis.hgetall(speedStatusKey(ctx.config.redis.keyPrefix));
      const owners = Object.entries(status)
        .filter(([f]) => f.startsWith('p:'))
        .map(([, v]) => (JSON.parse(v) as { instance: string }).instance);
      return new Set(owners).size;
    };

    const first = newLayer();
    await first.start();
    await send(waves[0] ?? []);
    await waitUntil(applied, (n) => n > 0, { what: 'the first instance to apply something' });

    // A second instance joins while the first is consuming: the partitions are split between them.
    const second = newLayer();
    await Promise.all([second.start(), send(waves[1] ?? [])]);
    await waitUntil(applied, (n) => n > 1200, { what: 'progress into the second wave', timeoutMs: 60_000 });
    await waitUntil(instancesReporting, (n) => n === 2, { what: 'both instances to own partitions', timeoutMs: 60_000 });

    // The first leaves mid-stream; the second takes over all partitions.
    await Promise.all([first.stop(), send(waves[2] ?? [])]);
    await waitCaughtUp(kafka, redis, ctx.config, 120_000);

    const actual = await readAllViews(viewStore(redis, ctx.config, views), views);
    expectEqualsReference(
      actual,
      records.map((r) => r.value),
      views,
    );
  });
});
