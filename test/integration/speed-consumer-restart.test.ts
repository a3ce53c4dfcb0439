/**
 * When kafkajs gives up on its consumer (a non-retriable error in a batch: here the Redis prefix
 * claims another topic, a misconfiguration), the speed layer does not die: it restarts the
 * consumer with backoff, and once an operator fixes the cause it catches up, views exact.
 */
import { afterEach, describe, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { ensureTopics } from '../../adapters/kafka/topics.js';
import { LAYOUT_VERSION, partitionStateKey } from '../../adapters/redis/keys.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { createSpeedLayer } from '../../cli/speed-wiring.js';
import type { SpeedLayer } from '../../speed-layer/speed-layer.js';
import { clickRecords, deleteTopics, produceAll, testKafka } from '../support/archiver-kafka.js';
import { deletePrefix, readAllViews, speedContext, viewStore, waitCaughtUp, expectEqualsReference } from '../support/speed-harness.js';
import { waitUntil } from '../support/wait.js';
import type { TestContext } from '../support/context.js';

const views = defaultViewSet();

describe('speed layer consumer restarts', () => {
  let ctx: TestContext;
  let kafka: Kafka;
  let redis: Redis;
  let layer: SpeedLayer | null = null;

  afterEach(async () => {
    await layer?.stop();
    await deleteTopics(kafka, [ctx.config.kafka.topic, ctx.config.kafka.dlqTopic]);
    await deletePrefix(redis, ctx.config.redis.keyPrefix);
    redis.disconnect();
    ctx.cleanup();
  });

  it('restarts a consumer kafkajs gave up on and catches up once the cause is fixed', async () => {
    ctx = speedContext({ LAMBDA_RETRY_MAX_MS: '500' });
    kafka = testKafka(ctx.config.kafka.brokers);
    redis = new Redis(ctx.config.redis.url);
    const { topic, partitions } = ctx.config.kafka;
    await ensureTopics(kafka, [{ topic, partitions }]);
    const records = clickRecords(1500, 23, Date.now() - 3_600_000);
    await produceAll(
      kafka,
      topic,
      records.map((r) => ({ key: r.key, value: r.value })),
    );
    // Partition 0's state says it belongs to another topic: every batch of it fails, non-retriably.
    const state0 = partitionStateKey(ctx.config.redis.keyPrefix, 0);
    await redis.hset(state0, 'next', '0', 'coveredSince', '0', 'topic', 'some-other-topic', 'layout', String(LAYOUT_VERSION));

    const metrics = createMetrics();
    const restarts = async () => (await metrics.registry.getSingleMetric('lambda_speed_consumer_restarts_total')?.get())?.values[0]?.value ?? 0;
    layer = createSpeedLayer({ config: ctx.config, views, log: silentLogger(), metrics });
    await layer.start();
    await waitUntil(restarts, (n) => n >= 2, { what: 'the consumer to crash and be restarted twice', timeoutMs: 90_000 });

    await redis.hset(state0, 'topic', topic);
    await waitCaughtUp(kafka, redis, ctx.config);
    const actual = await readAllViews(viewStore(redis, ctx.config, views), views);
    expectEqualsReference(
      actual,
      records.map((r) => r.value),
      views,
    );
  });
});
