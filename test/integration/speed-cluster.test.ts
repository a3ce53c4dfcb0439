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
import { allKeyPatterns } from '../../adapters/redis/keys.js';
import type { RedisClient } from '../../adapters/redis/scripts.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { createSpeedLayer } from '../../cli/speed-wiring.js';
import type { SpeedLayer } from '../../speed-layer/speed-layer.js';
import { ensureTopics } from '../../adapters/kafka/topics.js';
import { clickRecords, deleteTopics, produceAll, testKafka } from '../support/archiver-kafka.js';
import { deletePrefix, readAllViews, speedContext, viewStore, waitCaughtUp, expectEqualsReference } from '../support/speed-harness.js';
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
    await produceAll(
      kafka,
      k.topic,
      all.map((r) => ({ key: r.key, value: r.value })),
    );
    for (let i = 0; i < 2; i++) {
      const layer = createSpeedLayer({ config: ctx.config, views, log: silentLogger(), metrics: createMetrics(), statusIntervalMs: 200 });
      layers.push(layer);
      await layer.start();
    }
    await waitCaughtUp(kafka, redis, ctx.config);

    const actual = await readAllViews(viewStore(redis, ctx.config, views), views);
    expect(actual.size).toBeGreaterThan(100);
    expectEqualsReference(
      actual,
      all.map((r) => r.value),
      views,
    );

    // The keys are spread over the masters (the hash tags spread partitions and HLL shards over
    // slots): which master owns each key's slot, from the cluster's own slot table.
    const cluster = redis as Cluster;
    const slots = (await cluster.cluster('SLOTS')) as unknown as [number, number, [string, number, ...unknown[]], ...unknown[]][];
    const ownerOf = (slot: number) => {
      const range = slots.find(([from, to]) => slot >= from && slot <= to);
      return range ? `${range[2][0]}:${range[2][1]}` : 'none';
    };
    expect(new Set(slots.map((s) => `${s[2][0]}:${s[2][1]}`)).size).toBe(3);
    const keys = new Set<string>();
    // Every node the client knows (its view of which are masters can lag behind the cluster's).
    for (const node of cluster.nodes('all')) {
      // Most keys start with a hash tag ({prefix:p0}:...): every pattern of the prefix, not prefix*.
      for (const pattern of allKeyPatterns(ctx.config.redis.keyPrefix)) {
        let cursor = '0';
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          for (const key of found) keys.add(key);
          cursor = next;
        } while (cursor !== '0');
      }
    }
    const owners = new Set(await Promise.all([...keys].map(async (key) => ownerOf(Number(await cluster.cluster('KEYSLOT', key))))));
    expect(keys.size).toBeGreaterThan(50);
    expect(owners.size).toBe(3);
  });
});
