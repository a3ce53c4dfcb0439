/**
 * The serving cache against the oracle (issue 14): for random queries over real SQLite runs and
 * real Redis speed views, the cached series and drift answers are byte-identical to the answers
 * computed from scratch, and so are the totals (rolled-up distinct values included: unions of the runs' sketches and the
 * speed HLLs, issue 16); before and after a new run is published, and while one is published in
 * the middle of an answer (each answer from the one run its snapshot took).
 */
import { closeServingFixture } from '../support/serving-fixture.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import { retentionPolicy } from '../../shared/speed/retention.js';
import { RedisSpeedStateStore } from '../../adapters/redis/speed-state-store.js';
import { ServingCache } from '../../serving-layer/cache/serving-cache.js';
import { cachedSeriesAnswer } from '../../serving-layer/cache/series-cache.js';
import { cachedDriftAnswer } from '../../serving-layer/cache/drift-cache.js';
import { cachedTotalsAnswer } from '../../serving-layer/cache/totals-cache.js';
import { seriesAnswer } from '../../serving-layer/query/series.js';
import { driftAnswer } from '../../serving-layer/query/drift.js';
import { totalsAnswer } from '../../serving-layer/query/totals.js';
import type { QueryContext } from '../../serving-layer/query/context.js';
import { MAX_BUCKETS, rangeQuery, resolveQuery, type ResolvedQuery } from '../../serving-layer/query/params.js';
import { HOUR_MS, MINUTE_MS, floorTo, granularityMs, type Granularity } from '../../shared/time.js';
import type { ViewDef } from '../../shared/views/definition.js';
import { viewSetFromDocument } from '../../shared/views/load.js';
import { afterFirstRead, RunPublisher } from '../support/batch-runs.js';
import { applyToSpeed } from '../support/speed-apply.js';
import { speedContext, viewStore } from '../support/speed-harness.js';
import type { TestContext } from '../support/context.js';
import { rand, type Rand } from '../unit/_prng.js';

// Two dimensions, so groupBy rolls up; every kind of measure.
const doc = {
  views: [
    {
      name: 'visits',
      description: 'visits per url and device',
      dimensions: ['url', 'device'],
      filter: { type: 'visit' },
      measures: {
        visits: { type: 'count' },
        visitors: { type: 'distinct', field: 'user' },
        spent: { type: 'sum', field: 'amount', decimals: 2 },
        longest: { type: 'max', field: 'amount', decimals: 2 },
      },
      granularities: ['minute', 'hour', 'day'],
    },
    {
      name: 'orders',
      description: 'orders per country',
      dimensions: ['country'],
      measures: { orders: { type: 'count' }, cheapest: { type: 'min', field: 'amount', decimals: 2 } },
      granularities: ['hour', 'day'],
    },
  ],
} as const;
const views = viewSetFromDocument(doc, 'test');
const viewsJson = JSON.stringify(doc);
const URLS = ['/a', '/b', '/ü', '/x:y', '/"q"', '/a|b'];
const DEVICES = ['phone', 'desk', 'tv'];
const COUNTRIES = ['DE', 'FR', 'JP'];
const NOW = floorTo(Date.now(), 'hour') + 17 * MINUTE_MS;
const SPAN = 30 * HOUR_MS;

let seq = 0;
function events(r: Rand, n: number, from: number, to: number): object[] {
  return Array.from({ length: n }, () => {
    const ts = r.int(from, to - 1);
    const amount = r.int(1, 99_999) / 100;
    if (r.chance(0.3)) return { id: `e${++seq}`, ts, type: 'order', ...(r.chance(0.9) ? { country: r.pick(COUNTRIES) } : {}), amount };
    return {
      id: `e${++seq}`,
      ts,
      type: 'visit',
      ...(r.chance(0.9) ? { url: r.pick(URLS) } : {}),
      ...(r.chance(0.8) ? { device: r.pick(DEVICES) } : {}),
      user: `u${r.int(1, 40)}`,
      amount,
    };
  });
}

/** A random query a user could send: range, granularity, filter, groupBy, measures, limit. */
function randomQuery(r: Rand, view: ViewDef): ResolvedQuery {
  const g: Granularity = r.pick(view.granularities);
  const len = granularityMs(g);
  const to = NOW - r.int(-2, 3) * len - (r.chance(0.3) ? r.int(0, len - 1) : 0);
  const buckets = Math.min(MAX_BUCKETS, r.int(1, Math.ceil((SPAN + 4 * HOUR_MS) / len)));
  const raw: Record<string, unknown> = { granularity: g, from: String(to - buckets * len), to: String(to) };
  const filters: string[] = [];
  for (const d of view.dimensions) {
    if (!r.chance(0.25)) continue;
    const pool = d === 'url' ? URLS : d === 'device' ? DEVICES : COUNTRIES;
    filters.push(r.chance(0.15) ? d : `${d}:${r.pick([...pool, '/nowhere'])}`);
  }
  if (filters.length > 0) raw.filter = filters;
  if (r.chance(0.6)) raw.groupBy = view.dimensions.filter(() => r.chance(0.5)).join(',');
  const measures = Object.keys(view.measures).filter(() => r.chance(0.6));
  if (measures.length > 0 && r.chance(0.5)) raw.measures = measures.join(',');
  if (r.chance(0.3)) raw.limit = String(r.int(1, 4));
  return resolveQuery(view, rangeQuery.parse(raw), NOW);
}

describe('serving cache: byte-identical to the answers computed from scratch', () => {
  let ctx: TestContext;
  let redis: Redis;
  let dir: string;
  let publisher: RunPublisher;
  let store: SqliteBatchViewStore;
  let query: QueryContext;
  let state: RedisSpeedStateStore;
  /** the next offset of partition 0 */
  let partition0 = 0;
  /** the clock of the answers and the cache: a speed read is reused while it stands still (bound 0) */
  let clock = NOW;
  const r = rand(20261204);
  const all: object[] = [];

  beforeAll(async () => {
    ctx = speedContext({ LAMBDA_BATCH_CRON: '0 0 * * 0' });
    redis = new Redis(ctx.config.redis.url);
    dir = mkdtempSync(join(tmpdir(), 'serving-cache-'));
    publisher = new RunPublisher(dir, views, viewsJson);
    store = new SqliteBatchViewStore(dir);
    all.push(...events(r, 2500, NOW - SPAN, NOW));
    // The speed layer holds everything (2 partitions); the runs hold what they held at their W.
    state = new RedisSpeedStateStore(redis, ctx.config.redis.keyPrefix, retentionPolicy(ctx.config), ctx.config.speed.dedupeWindowMs);
    for (const p of [0, 1]) {
      const mine = all.filter((_, i) => i % 2 === p).map((e) => JSON.stringify(e));
      await applyToSpeed(state, ctx.config, views, p, mine, { arrival: NOW, coveredSince: NOW - 20 * HOUR_MS, now: NOW });
      if (p === 0) partition0 = mine.length;
    }
    query = { views, batch: store, speed: viewStore(redis, ctx.config, views), now: () => clock };
    publisher.publish('run-1', NOW - 12 * HOUR_MS, all.slice(0, 2000), 2);
  });
  afterAll(() => closeServingFixture({ store, publisher, dir, redis, ctx }));

  const queries = Array.from({ length: 60 }, (_, i) => randomQuery(rand(1000 + i), views.views[i % 2]!));

  async function expectSame(cache: ServingCache, q: QueryContext = query, hits = true): Promise<number> {
    let speedParts = 0;
    for (const [i, rq] of queries.entries()) {
      const view = views.views[i % 2]!;
      const oracle = await seriesAnswer(q, view, rq);
      const cached = await cachedSeriesAnswer(q, cache, view, rq);
      expect(cached.body.body.toString(), `series query ${i}: ${JSON.stringify(rq)}`).toBe(JSON.stringify(oracle.answer));
      expect(cached.incompleteCount).toBe(oracle.incompleteCount);
      // Asked again: the same bytes, from the cache (unless the budget could not keep them).
      const again = (await cachedSeriesAnswer(q, cache, view, rq)).body;
      if (hits) expect(again).toBe(cached.body);
      else expect(again.body.equals(cached.body.body)).toBe(true);
      const drift = await cachedDriftAnswer(q, cache, view, rq);
      expect(drift.body.toString(), `drift query ${i}`).toBe(JSON.stringify(await driftAnswer(q, view, rq)));
      const totals = await cachedTotalsAnswer(q, cache, view, rq);
      const totalsOracle = (await totalsAnswer(q, view, rq)).answer;
      expect(totals.body.body.toString(), `totals query ${i}`).toBe(JSON.stringify(totalsOracle));
      const totalsAgain = (await cachedTotalsAnswer(q, cache, view, rq)).body;
      if (hits) expect(totalsAgain).toBe(totals.body);
      else expect(totalsAgain.body.equals(totals.body.body)).toBe(true);
      // Distinct totals over both layers: a batch union (kept in the cache per run) with the speed one.
      const both = totalsOracle.sources.batchBuckets > 0 && totalsOracle.sources.speedBuckets > 0;
      if (both && totalsOracle.totals.some((t) => t.approximate?.includes('visitors') && typeof t.values.visitors === 'number' && t.values.visitors > 0))
        totalsUnions++;
      if (oracle.answer.buckets.some((b) => b.source === 'speed')) speedParts++;
      // Rolled-up distinct values in batch buckets: unions of the run file's sketches (issue 16).
      const rolled = oracle.answer.approximate.includes('visitors') && rq.groupBy.length < view.dimensions.length;
      if (rolled && oracle.answer.buckets.some((b) => b.source === 'batch' && b.groups.some((g) => typeof g.values.visitors === 'number'))) batchUnions++;
    }
    return speedParts;
  }
  let batchUnions = 0;
  let totalsUnions = 0;

  it('random queries before and after a new run is published', async () => {
    const cache = new ServingCache({ cacheBytes: 32 * 1024 * 1024, speedMaxStaleMs: 0 }, null, () => clock);
    // The queries reach both layers: most answers have batch and speed buckets.
    expect(await expectSame(cache)).toBeGreaterThan(20);
    expect(batchUnions).toBeGreaterThanOrEqual(3);
    expect(totalsUnions).toBeGreaterThanOrEqual(3);
    const batchParts = cache.entries;
    expect(batchParts).toBeGreaterThan(60);

    // run-2 (later W, more events): nothing of run-1 may be served any more.
    publisher.publish('run-2', NOW - 6 * HOUR_MS, all.slice(0, 2400), 2);
    await expectSame(cache);
    // run-3 prunes run-1: its entries are dropped at once (keep 2).
    publisher.publish('run-3', NOW - 4 * HOUR_MS, all, 2);
    await expectSame(cache);
    expect(cache.bytes).toBeLessThanOrEqual(32 * 1024 * 1024);

    // New speed content on partition 0, the runs unchanged, and the clock past the staleness bound:
    // every speed read's content check finds another token (cache/fresh-reads.ts), so no answer is
    // served from the content before.
    clock += 1;
    const before = JSON.stringify((await totalsAnswer(query, views.views[0]!, queries[0]!)).answer);
    const more = events(r, 300, NOW - 3 * HOUR_MS, NOW).map((e) => JSON.stringify(e));
    await applyToSpeed(state, ctx.config, views, 0, more, { arrival: NOW, coveredSince: NOW - 20 * HOUR_MS, now: NOW, first: partition0 });
    expect(JSON.stringify((await totalsAnswer(query, views.views[0]!, queries[0]!)).answer)).not.toBe(before);
    await expectSame(cache);
  });

  it('a run published in the middle of an answer: the answer is the one of the run its snapshot took', async () => {
    const cache = new ServingCache({ cacheBytes: 32 * 1024 * 1024, speedMaxStaleMs: 0 }, null, () => clock);
    let n = 4;
    for (const [i, rq] of queries.slice(0, 12).entries()) {
      const view = views.views[i % 2]!;
      const before = JSON.stringify((await seriesAnswer(query, view, rq)).answer);
      const runId = `run-${n++}`;
      // The same W as the run before: the boundary and the speed reads stay the same, so only the
      // run's identity tells the cache that its answer is out of date.
      const racing = { ...query, batch: afterFirstRead(store, () => publisher.publish(runId, NOW - 4 * HOUR_MS, all.slice(0, 2000 + 40 * n), 2)) };
      const during = await cachedSeriesAnswer(racing, cache, view, rq);
      expect(during.body.body.toString(), `query ${i} while ${runId} was published`).toBe(before);
      expect(store.latestRun()?.runId).toBe(runId);
      // The next answer is the new run's, not the cached one of the run before.
      const after = await cachedSeriesAnswer(query, cache, view, rq);
      expect(after.body.body.toString()).toBe(JSON.stringify((await seriesAnswer(query, view, rq)).answer));
    }
  });

  it('a small budget evicts, and every answer is still the oracle', async () => {
    const cache = new ServingCache({ cacheBytes: 64 * 1024, speedMaxStaleMs: 0 }, null, () => clock);
    await expectSame(cache, query, false);
    expect(cache.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(cache.entries).toBeGreaterThan(0);
  });
});
