/**
 * The speed layer's data model against real Kafka and Redis (issue 13): copies of one event id on
 * different partitions (what a keyless producer does) are counted once with dedupe on, also when
 * both partitions are applied at once, and counted per bucket with dedupe off; the largest apply
 * the configuration allows goes through in one call; a partition stored under an older key layout
 * is rebuilt from Kafka; the batch watermark in Redis only rises; a SIGKILLed consumer's
 * partitions read as stale, not caught up.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { ensureTopics } from '../../adapters/kafka/topics.js';
import { encodeApply } from '../../adapters/redis/apply-ops.js';
import { LAYOUT_VERSION, batchWatermarkKey, partitionStateKey } from '../../adapters/redis/keys.js';
import { retentionPolicy } from '../../shared/speed/retention.js';
import { RedisSpeedStateStore, publishBatchWatermark } from '../../adapters/redis/speed-state-store.js';
import { RedisSpeedViewStore } from '../../adapters/redis/speed-view-store.js';
import { MAX_SPEED_APPLY_EVENTS } from '../../platform/config.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import { parseEventLine } from '../../shared/events.js';
import { CLAIM_DUPLICATE, CLAIM_OWNED } from '../../shared/speed/apply.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { claimRequests, parseRecords, planBatch, resolveClaims } from '../../speed-layer/plan.js';
import { createSpeedLayer } from '../../cli/speed-wiring.js';
import type { SpeedLayer } from '../../speed-layer/speed-layer.js';
import { clickRecords, deleteTopics, produceAll, testKafka } from '../support/archiver-kafka.js';
import {
  deletePrefix,
  readAllViews,
  spawnSpeed,
  speedContext,
  undedupedTruth,
  viewStore,
  waitCaughtUp,
  type SpeedProcess,
  expectEqualsReference,
} from '../support/speed-harness.js';
import { waitUntil } from '../support/wait.js';
import type { TestContext } from '../support/context.js';

const views = defaultViewSet();

/** Valid events of a generated stream, each copied once onto the other of two partitions. */
function crossPartitionCopies(n: number, seed: number) {
  const originals = clickRecords(n, seed, Date.now() - 2 * 3_600_000).filter((r) => parseEventLine(r.value, views).ok);
  const unique = [...new Map(originals.map((r) => [JSON.parse(r.value).id as string, r])).values()];
  const records = unique.flatMap((r, i) => [
    { key: null, value: r.value, partition: i % 2 },
    ...(i % 3 === 0 ? [{ key: null, value: r.value, partition: (i + 1) % 2 }] : []),
  ]);
  return { unique, records, copies: records.length - unique.length };
}

describe('speed layer data model', () => {
  let ctx: TestContext;
  let kafka: Kafka;
  let redis: Redis;
  let layer: SpeedLayer | null = null;
  let proc: SpeedProcess | null = null;

  async function setUp(overrides: Record<string, string> = {}) {
    ctx = speedContext({ LAMBDA_TOPIC_PARTITIONS: '2', ...overrides });
    kafka = testKafka(ctx.config.kafka.brokers);
    redis = new Redis(ctx.config.redis.url);
    await ensureTopics(kafka, [
      { topic: ctx.config.kafka.topic, partitions: 2 },
      { topic: ctx.config.kafka.dlqTopic, partitions: 1 },
    ]);
  }

  afterEach(async () => {
    await layer?.stop();
    layer = null;
    if (proc) {
      proc.child.kill('SIGKILL');
      await proc.exited;
      proc = null;
    }
    await deleteTopics(kafka, [ctx.config.kafka.topic, ctx.config.kafka.dlqTopic]);
    await deletePrefix(redis, ctx.config.redis.keyPrefix);
    redis.disconnect();
    ctx.cleanup();
  });

  it('counts copies of one id on different partitions once with dedupe on, both partitions consumed at once', async () => {
    await setUp({ LAMBDA_SPEED_CONCURRENT_PARTITIONS: '2', LAMBDA_SPEED_APPLY_MAX_EVENTS: '100' });
    const { unique, records, copies } = crossPartitionCopies(2000, 61);
    expect(copies).toBeGreaterThan(300);
    await produceAll(kafka, ctx.config.kafka.topic, records);
    layer = createSpeedLayer({ config: ctx.config, views, log: silentLogger(), metrics: createMetrics() });
    await layer.start();
    await waitCaughtUp(kafka, redis, ctx.config);

    const store = viewStore(redis, ctx.config, views);
    const actual = await readAllViews(store, views);
    expectEqualsReference(
      actual,
      unique.map((r) => r.value),
      views,
    );
    const status = await store.status();
    // Both partitions did drop copies: each kept the ids it claimed first.
    const skipped = status.partitions.map((p) => p.totals.duplicatesSkipped);
    expect(skipped.reduce((a, b) => a + b, 0)).toBe(copies);
    expect(status.partitions.map((p) => p.totals.events).reduce((a, b) => a + b, 0)).toBe(unique.length);
    expect([...actual.values()].every((v) => v._dups === 0)).toBe(true);
  });

  it('with dedupe off, applies the copies from the other partition and counts them per bucket', async () => {
    await setUp({ LAMBDA_SPEED_DEDUPE: 'false' });
    const { records } = crossPartitionCopies(1500, 62);
    await produceAll(kafka, ctx.config.kafka.topic, records);
    layer = createSpeedLayer({ config: ctx.config, views, log: silentLogger(), metrics: createMetrics() });
    await layer.start();
    await waitCaughtUp(kafka, redis, ctx.config);

    const { lines: undeduped, dupsPerGroup: dupsWanted } = undedupedTruth(
      records.map((r) => r.value),
      views,
    );
    expect(dupsWanted.size).toBeGreaterThan(0);
    const actual = await readAllViews(viewStore(redis, ctx.config, views), views);
    expectEqualsReference(actual, undeduped, views);
    expect(new Map([...actual].filter(([, v]) => v._dups > 0).map(([k, v]) => [k, v._dups]))).toEqual(dupsWanted);
  });

  it('gives every id exactly one owner when two partitions claim the same ids concurrently, and replays the same answers', async () => {
    await setUp();
    const store = new RedisSpeedStateStore(redis, ctx.config.redis.keyPrefix, retentionPolicy(ctx.config), 3_600_000);
    const ts = Date.now() - 60_000;
    const items = Array.from({ length: 3000 }, (_, i) => ({ offset: 10 + i, id: `e-${i}`, ts: ts - (i % 7) * 600_000 }));
    // Both partitions claim in chunks of 100, interleaved on the wire: 0 from the front, 1 from the back.
    const claimChunk = (p: number, c: number) => store.claim(p, items.slice(c * 100, c * 100 + 100)).then((a) => [p, c, a] as const);
    const answers = await Promise.all(Array.from({ length: 30 }, (_, c) => [claimChunk(0, c), claimChunk(1, 29 - c)]).flat());
    const owner = new Map<string, number>();
    for (const [p, c, a] of answers) {
      a.forEach((flag, k) => {
        if (flag === CLAIM_OWNED) {
          const id = items[c * 100 + k]?.id as string;
          expect(owner.has(id), `${id} owned twice`).toBe(false);
          owner.set(id, p);
        } else expect(flag).toBe(CLAIM_DUPLICATE);
      });
    }
    expect(owner.size).toBe(items.length);
    // Both partitions won some: the race really interleaved.
    expect(new Set(owner.values()).size).toBe(2);
    // Replays (a retried batch, a zombie) get the same answers.
    for (const p of [0, 1]) {
      const again = await store.claim(p, items);
      again.forEach((flag, k) => expect(flag).toBe(owner.get(items[k]?.id as string) === p ? CLAIM_OWNED : CLAIM_DUPLICATE));
    }
  });

  it(`applies the largest batch the configuration allows (${MAX_SPEED_APPLY_EVENTS} events) in one call`, async () => {
    await setUp();
    const { config } = ctx;
    const store = new RedisSpeedStateStore(redis, config.redis.keyPrefix, retentionPolicy(config), 3_600_000);
    await store.initPartition(config.kafka.topic, 0, { next: 0, coveredSince: 0 });
    const t0 = Date.now() - 3_600_000;
    // Every event its own visitor and id (the most claim and PFADD arguments), over 2,000 URLs.
    const values = Array.from({ length: MAX_SPEED_APPLY_EVENTS }, (_, i) =>
      JSON.stringify({ id: `big-${i}`, ts: t0 + (i % 3_000_000), type: 'pageview', url: `/u/${i % 2000}`, user: `v${i}` }),
    );
    const records = parseRecords(
      values.map((value, offset) => ({ offset, key: null, value, timestamp: Date.now() })),
      views,
    );
    const req = claimRequests(records, 3_600_000);
    const claims = resolveClaims(req.flags, req.at, await store.claim(0, req.items));
    const plan = planBatch({
      partition: 0,
      records,
      claims,
      expectedNext: 0,
      views,
      dedupe: true,
      watermark: null,
      allowedLatenessMs: 60_000,
      nowMs: Date.now(),
    });
    const encoded = encodeApply(config.redis.keyPrefix, plan.apply, retentionPolicy(config));
    // Far past the ~120k arguments at which spreading them into one call threw a RangeError.
    const hllArgs = encoded.hll.reduce((n, c) => n + c.keys.length + c.args.length, 0);
    expect(encoded.keys.length + encoded.args.length + hllArgs).toBeGreaterThan(300_000);
    expect(req.items.length * 2).toBeGreaterThan(120_000);
    expect(await store.apply(plan.apply)).toEqual({ applied: true, expiredGroups: 0 });
    expect(await redis.hget(partitionStateKey(config.redis.keyPrefix, 0), 'next')).toBe(String(MAX_SPEED_APPLY_EVENTS));
    const hourly = await viewStore(redis, config, views).series({ view: 'pageviews', granularity: 'hour', from: 0, to: Date.now() + 86_400_000 });
    expect(hourly.reduce((n, r) => n + (r.values.views ?? 0), 0)).toBe(MAX_SPEED_APPLY_EVENTS);
  }, 240_000);

  it('rebuilds a partition stored under an older key layout from Kafka, from where coverage says', async () => {
    await setUp();
    const records = clickRecords(800, 63);
    await produceAll(
      kafka,
      ctx.config.kafka.topic,
      records.map((r) => ({ key: r.key, value: r.value })),
    );
    // What the previous version left: a state hash without a layout field, far along the log.
    for (const p of [0, 1])
      await redis.hset(partitionStateKey(ctx.config.redis.keyPrefix, p), 'next', '700', 'coveredSince', '0', 'topic', ctx.config.kafka.topic);
    layer = createSpeedLayer({ config: ctx.config, views, log: silentLogger(), metrics: createMetrics() });
    await layer.start();
    const layouts = () => Promise.all([0, 1].map((p) => redis.hget(partitionStateKey(ctx.config.redis.keyPrefix, p), 'layout')));
    await waitUntil(layouts, (l) => l.every((v) => v === String(LAYOUT_VERSION)), { what: 'both partitions re-initialised under the current layout' });
    await waitCaughtUp(kafka, redis, ctx.config);
    const actual = await readAllViews(viewStore(redis, ctx.config, views), views);
    expectEqualsReference(
      actual,
      records.map((r) => r.value),
      views,
    );
    expect((await viewStore(redis, ctx.config, views).status()).coveredSince).toBe(0); // 'earliest' in these tests
  });

  it('only ever raises the batch watermark in Redis', async () => {
    await setUp();
    const prefix = ctx.config.redis.keyPrefix;
    expect(await publishBatchWatermark(redis, prefix, 2_000)).toBe(2_000);
    // A slower publisher of an older run comes second: W stays.
    expect(await publishBatchWatermark(redis, prefix, 1_000)).toBe(2_000);
    expect(await redis.get(batchWatermarkKey(prefix))).toBe('2000');
    expect(await publishBatchWatermark(redis, prefix, 3_000)).toBe(3_000);
  });

  it('shows the partitions of a SIGKILLed consumer as stale with their age, not caught up', async () => {
    await setUp();
    const records = clickRecords(600, 64);
    await produceAll(
      kafka,
      ctx.config.kafka.topic,
      records.map((r) => ({ key: r.key, value: r.value })),
    );
    proc = spawnSpeed(ctx.config, join(ctx.dataDir, 'speed.log'));
    await waitCaughtUp(kafka, redis, ctx.config);
    const store = new RedisSpeedViewStore(redis, { prefix: ctx.config.redis.keyPrefix, views, retention: retentionPolicy(ctx.config), statusStaleMs: 4_000 });
    const live = await waitUntil(
      () => store.status(),
      (s) => s.partitions.length === 2 && s.partitions.every((p) => p.caughtUp === true),
      {
        what: 'both partitions reported caught up',
        timeoutMs: 30_000,
      },
    );
    expect(live.partitions.every((p) => !p.stale && p.lag === 0 && p.instance !== null)).toBe(true);

    proc.child.kill('SIGKILL');
    expect(await proc.exited).toBeNull(); // killed by the signal, no clean stop
    proc = null;
    const dead = await waitUntil(
      () => store.status(),
      (s) => s.partitions.every((p) => p.stale),
      { what: "the killed consumer's partitions to read as stale", timeoutMs: 30_000 },
    );
    for (const p of dead.partitions) {
      expect(p.caughtUp).toBe(false);
      expect(p.lag).toBeUndefined();
      expect(p.reportAgeMs).toBeGreaterThan(4_000);
    }
  });
});
