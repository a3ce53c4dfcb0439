/**
 * The speed layer on a Redis Cluster (issue 18, first part): two speed instances in one consumer
 * group, four partitions, a stream with duplicates (some across partitions), invalid records and
 * late events, against a local cluster of three masters with one replica each. The views read back
 * through the serving side's store equal the reference fold, every multi-key script stays in one
 * hash slot (a CROSSSLOT error would fail the apply), and the keys are spread over the masters.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Cluster } from 'ioredis';
import { createRedis } from '../../adapters/redis/client.js';
import type { RedisClient } from '../../adapters/redis/scripts.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import { referenceFold } from '../../shared/reference-fold.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { SpeedLayer } from '../../speed-layer/speed-layer.js';
import { ensureTopics } from '../../adapters/kafka/topics.js';
import { clickRecords, deleteTopics, produceAll, testKafka } from '../support/archiver-kafka.js';
import { deletePrefix, diffFromReference, readAllViews, speedContext, viewStore, waitCaughtUp } from '../support/speed-harness.js';
import type { TestContext } from '../support/context.js';

const views = defaultViewSet();

describe('speed layer on a Redis Cluster', () => {
  let ctx: TestContext;
  let redis: RedisClient;
  const layers: SpeedLayer[] = [];

  beforeAll(() => {
    ctx = speedContext({ REDIS_URL: inject('services').redisClusterUrl, LAMBDA_TOPIC_PARTITIONS: '4', LAMBDA_SPEED_APPLY_MAX_EVENTS: '250' });
    redis = createRedis(ctx.config.redis.url, silentLogger(), 'speed-cluster-test');
  });
  afterAll(async () => {
    await Promise.all(layers.map((l) => l.stop()));
    await deleteTopics(testKafka(ctx.config.kafka.brokers), [ctx.config.kafka.topic, ctx.config.kafka.dlqTopic]);
    await deletePrefix(redis, ctx.config.redis.keyPrefix);
    redis.disconnect();
    ctx.cleanup();
  });

  it('two instances, four partitions: the views equal the reference fold, keys spread over the masters', async () => {
    expect(redis).toBeInstanceOf(Cluster);
    const kafka = testKafka(ctx.config.kafka.brokers);
    const k = ctx.config.kafka;
    await ensureTopics(kafka, [
      { topic: k.topic, partitions: k.partitions },
      { topic: k.dlqTopic, partitions: 1 },
    ]);
    const records = clickRecords(4000, 18, Date.now() - 2 * 3_600_000);
    // Copies of some ids under another key: they land on other partitions, so dedupe must work
    // across partitions, i.e. across the cluster's slots.
    const copies = records.slice(0, 200).map((r, i) => ({ key: `copy-${i}`, value: r.value }));
    const all = [...records, ...copies];
    await produceAll(kafka, k.topic, all.map((r) => ({ key: r.key, value: r.value })));
    for (let i = 0; i < 2; i++) {
      const layer = new SpeedLayer({ config: ctx.config, views, log: silentLogger(), metrics: createMetrics(), statusIntervalMs: 200 });
      layers.push(layer);
      await layer.start();
    }
    await waitCaughtUp(kafka, redis, ctx.config);

    const actual = await readAllViews(viewStore(redis, ctx.config, views), views);
    expect(actual.size).toBeGreaterThan(100);
    expect(diffFromReference(actual, referenceFold(all.map((r) => r.value), views), views)).toEqual([]);

    // The keys live on every master (the hash tags spread partitions and HLL slots over the cluster).
    const perMaster = await Promise.all(
      (redis as Cluster).nodes('master').map(async (node) => {
        const [, keys] = await node.scan('0', 'MATCH', `${ctx.config.redis.keyPrefix}*`, 'COUNT', 100_000);
        return keys.length;
      }),
    );
    expect(perMaster).toHaveLength(3);
    expect(perMaster.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
  });
});
