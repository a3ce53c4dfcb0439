/**
 * The speed layer against real Kafka and Redis: its views equal the reference fold (counts and
 * sums exactly, distinct within HLL error), invalid records reach the DLQ once with their origin
 * in headers while consumption goes on, late arrivals and (with dedupe off) duplicates are counted
 * per bucket, and the status says how far it got.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { DLQ_HEADERS } from '../../adapters/kafka/dlq.js';
import { publishBatchWatermark } from '../../adapters/redis/speed-state-store.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import { groupKey } from '../../shared/aggregate/aggregate.js';
import { parseEventLine } from '../../shared/events.js';
import { dimsKey, referenceTotals, validDeduped } from '../../shared/reference-fold.js';
import { floorTo } from '../../shared/time.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { project } from '../../shared/views/project.js';
import { createSpeedLayer } from '../../cli/speed-wiring.js';
import type { SpeedLayer } from '../../speed-layer/speed-layer.js';
import { rollUp } from '../../serving-layer/query/rollup.js';
import { clickRecords, produceAll, readWholeTopic } from '../support/archiver-kafka.js';
import { readAllViews, undedupedTruth, viewStore, waitCaughtUp, expectEqualsReference } from '../support/speed-harness.js';
import type { TestContext } from '../support/context.js';
import { speedFixture, type SpeedFixture } from '../support/speed-fixture.js';

const views = defaultViewSet();

describe('speed layer views', () => {
  let ctx: TestContext;
  let kafka: Kafka;
  let redis: Redis;
  let layer: SpeedLayer | null = null;

  let fixture: SpeedFixture;

  async function setUp(overrides: Record<string, string> = {}) {
    fixture = await speedFixture(overrides);
    ({ ctx, kafka, redis } = fixture);
  }

  afterEach(async () => {
    await layer?.stop();
    layer = null;
    await fixture.cleanup();
  });

  it('equals the reference fold, sends each invalid record to the DLQ once, and counts late arrivals per bucket', async () => {
    await setUp({ LAMBDA_SPEED_APPLY_MAX_EVENTS: '300' });
    const startTs = Date.now() - 2 * 3_600_000;
    const generated = clickRecords(3000, 41, startTs);
    const poison = { key: 'poison', value: JSON.stringify({ id: 'poison', ts: 'yesterday', type: 'pageview', url: '/p/1', user: 'u1' }) };
    const records = [...generated.slice(0, 1500), poison, ...generated.slice(1500)];
    const values = records.map((r) => r.value);
    // A batch run "published" W before these events arrived: events in buckets behind floor_g(W) are late.
    const W = startTs + 40 * 60_000 + 12_345;
    await publishBatchWatermark(redis, ctx.config.redis.keyPrefix, W);
    await produceAll(
      kafka,
      ctx.config.kafka.topic,
      records.map((r) => ({ key: r.key, value: r.value })),
    );

    const metrics = createMetrics();
    layer = createSpeedLayer({ config: ctx.config, views, log: silentLogger(), metrics, statusIntervalMs: 200 });
    await layer.start();
    await waitCaughtUp(kafka, redis, ctx.config);

    const store = viewStore(redis, ctx.config, views);
    const actual = await readAllViews(store, views);
    expectEqualsReference(actual, values, views);

    // Distinct through scratch-key unions of the partition shards (the Redis Cluster path) gives
    // exactly the estimate of a multi-key PFCOUNT, and the raw union is a Redis HLL.
    const scratch = `${ctx.config.redis.keyPrefix}:test-sketch`;
    const hourly = [...actual.entries()].filter(([k]) => k.startsWith('["pageviews","hour"'));
    expect(hourly.length).toBeGreaterThan(20);
    for (const [key, v] of hourly.slice(0, 20)) {
      const [, granularity, bucketStart, dims] = JSON.parse(key) as [string, 'hour', number, (string | null)[]];
      const sketch = await store.distinctSketch({ view: 'pageviews', granularity, bucketStart, dims }, 'visitors');
      expect(sketch?.estimate).toBe(v.visitors);
      await redis.set(scratch, sketch?.sketch ?? '');
      expect(await redis.pfcount(scratch)).toBe(v.visitors);
    }
    // Range totals union the buckets' sketches: distinct over the whole range, not a sum.
    const range = { view: 'pageviews', granularity: 'minute' as const, from: 0, to: Date.now() + 86_400_000 };
    const totals = await store.distinctTotals(range, 'visitors');
    const wanted = referenceTotals(values, views, range);
    expect(totals).toHaveLength(wanted.size);
    for (const t of totals) {
      const w = wanted.get(dimsKey(t.dims))?.visitors as number;
      expect(Math.abs(t.estimate - w)).toBeLessThanOrEqual(0.03 * w + 1);
    }

    // Rolled up in the store (`keep`: the caller's groupBy drops dimensions): the same numbers as
    // rolling up every stored group afterwards, distinct null wherever groups were combined.
    for (const view of views.views) {
      const q = { view: view.name, granularity: 'hour' as const, from: 0, to: Date.now() + 86_400_000 };
      const stored = await store.series(q);
      const rolled = await store.series({ ...q, keep: [] });
      expect(rollUp(view, rolled, [])).toEqual(rollUp(view, stored, []));
      // One row per bucket came back, not one per stored group.
      expect(rolled).toHaveLength(new Set(stored.map((r) => r.bucketStart)).size);
      expect(rolled.length).toBeLessThan(stored.length);
    }

    // Late counts per bucket: the deduplicated valid events whose bucket start < floor_g(W).
    const lateWanted = new Map<string, number>();
    for (const e of validDeduped(values, views)) {
      for (const view of views.views) {
        const p = project(view, e);
        if (p === null) continue;
        for (const g of view.granularities) {
          if (floorTo(e.ts, g) >= floorTo(W, g)) continue;
          const key = groupKey(view.name, g, floorTo(e.ts, g), p.dims);
          lateWanted.set(key, (lateWanted.get(key) ?? 0) + 1);
        }
      }
    }
    expect(lateWanted.size).toBeGreaterThan(10);
    const lateGot = new Map([...actual].filter(([, v]) => v._late > 0).map(([k, v]) => [k, v._late]));
    expect(lateGot).toEqual(lateWanted);
    expect([...actual.values()].every((v) => v._dups === 0)).toBe(true);

    // Invalid records: each exactly once in the DLQ, with its origin and the reason.
    const invalid = records.filter((r) => !parseEventLine(r.value, views).ok);
    const source = await readWholeTopic(kafka, ctx.config.kafka.topic);
    const dlq = await readWholeTopic(kafka, ctx.config.kafka.dlqTopic);
    expect(dlq).toHaveLength(invalid.length);
    const poisonAt = source.find((r) => r.key === 'poison');
    const poisonLetters = dlq.filter((r) => r.key === 'poison');
    expect(poisonLetters).toHaveLength(1);
    expect(poisonLetters[0]?.value).toBe(poison.value);
    expect(poisonLetters[0]?.headers).toMatchObject({
      [DLQ_HEADERS.topic]: ctx.config.kafka.topic,
      [DLQ_HEADERS.partition]: String(poisonAt?.partition),
      [DLQ_HEADERS.offset]: String(poisonAt?.offset),
      [DLQ_HEADERS.layer]: 'speed',
      [DLQ_HEADERS.reason]: 'bad_ts',
      [DLQ_HEADERS.error]: expect.stringContaining('yesterday'),
    });
    const invalidCounted = (await metrics.registry.getSingleMetric('lambda_invalid_events_total')?.get())?.values.reduce((n, v) => n + v.value, 0);
    expect(invalidCounted).toBe(invalid.length);

    // Status for the serving layer: complete since the epoch ('earliest'), every offset applied.
    const status = await store.status();
    expect(status.coveredSince).toBe(0);
    expect(status.topicPartitions).toBe(ctx.config.kafka.partitions);
    expect(status.partitions.map((p) => p.offset)).toEqual(
      Array.from({ length: ctx.config.kafka.partitions }, (_, p) => source.filter((r) => r.partition === p).length),
    );
    const dupRecords = records.filter((r, i) => parseEventLine(r.value, views).ok && values.indexOf(r.value) < i).length;
    expect(status.partitions.reduce((n, p) => n + p.totals.duplicatesSkipped, 0)).toBe(dupRecords);
    expect(status.lateArrivals).toBeGreaterThan(0);
    await layer.stop();
    layer = null;
    const final = await store.status();
    expect(final.partitions.every((p) => p.lag === 0)).toBe(true);
  });

  it('with dedupe off, applies duplicates and counts them per bucket (the drift they cause)', async () => {
    await setUp({ LAMBDA_SPEED_DEDUPE: 'false' });
    const records = clickRecords(1500, 42, Date.now() - 3_600_000);
    await produceAll(
      kafka,
      ctx.config.kafka.topic,
      records.map((r) => ({ key: r.key, value: r.value })),
    );
    layer = createSpeedLayer({ config: ctx.config, views, log: silentLogger(), metrics: createMetrics() });
    await layer.start();
    await waitCaughtUp(kafka, redis, ctx.config);

    // The truth without dedupe: every valid record counts, so each repeat gets its own id.
    const { lines: undeduped, dupsPerGroup: dupsWanted } = undedupedTruth(
      records.map((r) => r.value),
      views,
    );
    expect(dupsWanted.size).toBeGreaterThan(0);
    const actual = await readAllViews(viewStore(redis, ctx.config, views), views);
    expectEqualsReference(actual, undeduped, views);
    const dupsGot = new Map([...actual].filter(([, v]) => v._dups > 0).map(([k, v]) => [k, v._dups]));
    expect(dupsGot).toEqual(dupsWanted);
  });
});
