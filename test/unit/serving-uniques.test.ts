/**
 * Unique counts over any range and any groupBy (issue 16), on the serving layer's own ports: a
 * distinct total or a rolled-up distinct is the union of the stored groups' sketches, batch run
 * and speed layer alike, flagged approximate with Redis's standard error; one batch bucket row is
 * its exact count; only a batch run without sketches leaves a union unavailable. The cached series
 * equals the one computed from scratch, byte for byte. (Real SQLite and Redis stores:
 * test/integration/uniques-e2e.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { totalsAnswer } from '../../serving-layer/query/totals.js';
import { seriesAnswer } from '../../serving-layer/query/series.js';
import { cachedSeriesAnswer } from '../../serving-layer/cache/series-cache.js';
import { cachedTotalsAnswer } from '../../serving-layer/cache/totals-cache.js';
import { ServingCache } from '../../serving-layer/cache/serving-cache.js';
import { rangeQuery, resolveQuery } from '../../serving-layer/query/params.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import type { BucketRow } from '../../shared/ports.js';
import { FakeBatchStore, fakeContext, fakeSketch, runInfo, type FakeSketch } from '../support/serving-fakes.js';
import { describeUnique } from '../../serving-layer/dashboard/src/unique-figure.js';

const views = defaultViewSet();
const pageviews = views.byName.pageviews!;
const H = 3_600_000;
const T0 = Date.UTC(2024, 4, 1, 0, 0);
const NOW = T0 + 30 * H;
/** The batch run's watermark: hours before T0 + 20 h come from the batch run, later ones from speed. */
const W = T0 + 20 * H;

/** Visitors per (hour, url): overlapping sets, so sums of exact counts would be wrong. */
function visitors(hour: number, url: string): string[] {
  const base = url === '/a' ? 0 : 40;
  return Array.from({ length: 30 }, (_, i) => `u${base + ((hour * 7 + i) % 90)}`);
}

const HOURS = [2, 5, 19, 21, 24]; // three batch hours, two speed hours
const URLS = ['/a', '/b'];

function fixture(opts: { batchSketches?: boolean } = {}) {
  const batch = new FakeBatchStore(views);
  const rows: BucketRow[] = [];
  const sketches: FakeSketch[] = [];
  const speedRows: (BucketRow & { late: number; duplicates: number; unchecked: number })[] = [];
  const speedSketches: FakeSketch[] = [];
  for (const h of HOURS) {
    for (const url of URLS) {
      const members = visitors(h, url);
      const start = T0 + h * H;
      const row: BucketRow = {
        view: 'pageviews',
        granularity: 'hour',
        bucketStart: start,
        dims: [url],
        values: { views: members.length, visitors: new Set(members).size },
      };
      const sketch = fakeSketch('pageviews', 'hour', 'visitors', start, [url], members);
      if (start < W) {
        rows.push(row);
        sketches.push(sketch);
      } else {
        speedRows.push({ ...row, late: 0, duplicates: 0, unchecked: 0 });
        speedSketches.push(sketch);
      }
    }
  }
  batch.publish(runInfo('run-1', W), rows, opts.batchSketches === false ? undefined : sketches);
  const ctx = fakeContext(views, NOW, batch);
  ctx.speed.rows = speedRows;
  ctx.speed.sketches = speedSketches;
  return ctx;
}

const q = (extra: Record<string, string>) =>
  resolveQuery(pageviews, rangeQuery.parse({ granularity: 'hour', from: String(T0), to: String(T0 + 26 * H), ...extra }), NOW);

function truth(hours: readonly number[], urls: readonly string[]): number {
  return new Set(hours.flatMap((h) => urls.flatMap((u) => visitors(h, u)))).size;
}

describe('distinct totals over a range (issue 16)', () => {
  it("per URL over batch and speed buckets: the union of both layers' sketches, approximate, with the standard error", async () => {
    const ctx = fixture();
    const t = (await totalsAnswer(ctx, pageviews, q({}))).answer;
    expect(t.sources).toEqual({ batchBuckets: 20, speedBuckets: 6 });
    expect(t.unavailable).toEqual({});
    expect(t.approximate).toEqual(['visitors']);
    expect(t.standardError).toEqual({ visitors: expect.closeTo(0.008125, 6) });
    expect(t.totals).toHaveLength(2);
    for (const total of t.totals) {
      const want = truth(HOURS, [total.dims.url!]);
      // A sum of the hourly exact counts would be 150; the union is far smaller.
      expect(want).toBeLessThan(100);
      expect(Math.abs(total.values.visitors! - want)).toBeLessThanOrEqual(Math.ceil(want * 0.02));
      expect(total.values.views).toBe(HOURS.length * 30);
      expect(total.buckets).toBe(HOURS.length);
      expect(total.approximate).toEqual(['visitors']);
    }
    // From the serving cache (the batch part and its unions kept per run): the same bytes, twice.
    const cache = new ServingCache({ cacheBytes: 8 * 1024 * 1024, speedMaxStaleMs: 0 }, null, () => NOW);
    for (let i = 0; i < 2; i++) expect((await cachedTotalsAnswer(ctx, cache, pageviews, q({}))).body.body.toString()).toBe(JSON.stringify(t));
  });

  it('rolled up to no dimension: one union over every URL and bucket', async () => {
    const t = (await totalsAnswer(fixture(), pageviews, q({ groupBy: '' }))).answer;
    const want = truth(HOURS, URLS);
    expect(t.totals).toHaveLength(1);
    expect(Math.abs(t.totals[0]!.values.visitors! - want)).toBeLessThanOrEqual(Math.ceil(want * 0.02));
    expect(t.approximate).toEqual(['visitors']);
  });

  it('one batch bucket with every dimension is the exact count, not an estimate', async () => {
    const ctx = fixture();
    const t = (await totalsAnswer(ctx, pageviews, q({ from: String(T0 + 5 * H), to: String(T0 + 6 * H) }))).answer;
    expect(t.approximate).toEqual([]);
    expect(t.standardError).toEqual({});
    expect(t.totals.map((x) => [x.dims.url, x.values.visitors, x.approximate])).toEqual([
      ['/a', 30, undefined],
      ['/b', 30, undefined],
    ]);
    expect(ctx.speed.sketchReads).toBe(0);
    // The same bucket rolled up to no dimension combines two groups: a union.
    const all = (await totalsAnswer(ctx, pageviews, q({ from: String(T0 + 5 * H), to: String(T0 + 6 * H), groupBy: '' }))).answer;
    expect(all.approximate).toEqual(['visitors']);
    expect(all.totals[0]!.values.visitors).toBe(truth([5], URLS));
  });

  it("a speed bucket alone is the speed layer's estimate: approximate", async () => {
    const t = (await totalsAnswer(fixture(), pageviews, q({ from: String(T0 + 21 * H), to: String(T0 + 22 * H) }))).answer;
    expect(t.approximate).toEqual(['visitors']);
    expect(t.totals.every((x) => x.approximate?.includes('visitors'))).toBe(true);
  });

  it('a batch run without sketches: unions over its buckets are unavailable, with the reason; nothing is guessed', async () => {
    const ctx = fixture({ batchSketches: false });
    const t = (await totalsAnswer(ctx, pageviews, q({}))).answer;
    expect(t.unavailable.visitors).toMatch(/batch run run-1 keeps no HyperLogLog sketches .*LAMBDA_BATCH_SKETCHES=false/);
    expect(t.totals.map((x) => x.values.visitors)).toEqual([null, null]);
    expect(t.totals.map((x) => x.values.views)).toEqual([150, 150]);
    // Speed buckets only: answered from the speed layer's HLLs whatever the run keeps.
    const speedOnly = (await totalsAnswer(ctx, pageviews, q({ from: String(T0 + 20 * H) }))).answer;
    expect(speedOnly.unavailable).toEqual({});
    expect(speedOnly.totals.map((x) => x.values.visitors)).toEqual(URLS.map((u) => truth([21, 24], [u])));
  });
});

describe('series with combined groups (issue 16)', () => {
  it("groupBy= : each bucket's distinct value is the union over its URLs, in batch and speed buckets; the cached answer is the same bytes", async () => {
    const ctx = fixture();
    const rq = q({ groupBy: '' });
    const s = (await seriesAnswer(ctx, pageviews, rq)).answer;
    expect(s.unavailable).toEqual([]);
    expect(s.approximate).toEqual(['visitors']);
    expect(s.standardError).toEqual({ visitors: expect.closeTo(0.008125, 6) });
    expect(s.warnings.join(' ')).not.toMatch(/visitors/);
    for (const h of HOURS) {
      const b = s.buckets.find((x) => x.start === T0 + h * H)!;
      expect(b.source).toBe(T0 + h * H < W ? 'batch' : 'speed');
      expect(b.groups).toEqual([{ dims: {}, values: { views: 60, visitors: truth([h], URLS) } }]);
    }
    const cache = new ServingCache({ cacheBytes: 1 << 20, speedMaxStaleMs: 0 }, null, ctx.now);
    for (const measures of [undefined, 'visitors', 'views']) {
      const rqm = q({ groupBy: '', ...(measures ? { measures } : {}) });
      const fresh = JSON.stringify((await seriesAnswer(ctx, pageviews, rqm)).answer);
      const cached = (await cachedSeriesAnswer(ctx, cache, pageviews, rqm)).body;
      expect(cached.body.toString(), `measures=${measures}`).toBe(fresh);
      // Again: the batch part from the cache, the speed part read again.
      expect((await cachedSeriesAnswer(ctx, cache, pageviews, rqm)).body.body.toString()).toBe(fresh);
    }
  });

  it('every dimension kept: nothing to union; speed buckets are still estimates', async () => {
    const ctx = fixture();
    const s = (await seriesAnswer(ctx, pageviews, q({}))).answer;
    expect(s.approximate).toEqual(['visitors']);
    expect(ctx.speed.sketchReads).toBe(0);
    const batchOnly = (await seriesAnswer(ctx, pageviews, q({ to: String(T0 + 20 * H) }))).answer;
    expect(batchOnly.approximate).toEqual([]);
  });

  it('a batch run without sketches: combined batch buckets are null and named, speed buckets are unions', async () => {
    const ctx = fixture({ batchSketches: false });
    const s = (await seriesAnswer(ctx, pageviews, q({ groupBy: '', measures: 'visitors' }))).answer;
    expect(s.unavailable).toEqual(['visitors']);
    expect(s.warnings.join(' ')).toMatch(/distinct measure\(s\) visitors are null .*keeps no HyperLogLog sketches/);
    expect(s.buckets.find((b) => b.start === T0 + 5 * H)!.groups[0]!.values.visitors).toBeNull();
    expect(s.buckets.find((b) => b.start === T0 + 21 * H)!.groups[0]!.values.visitors).toBe(truth([21], URLS));
    const cache = new ServingCache({ cacheBytes: 1 << 20, speedMaxStaleMs: 0 }, null, ctx.now);
    const rq = q({ groupBy: '', measures: 'visitors' });
    expect((await cachedSeriesAnswer(ctx, cache, pageviews, rq)).body.body.toString()).toBe(JSON.stringify(s));
  });
});

describe('the dashboard\'s "unique over the range" figure (issue 16)', () => {
  it('says exact, approximate (with the standard error and the layers) or unavailable, as the totals answer does', async () => {
    const ctx = fixture();
    const week = (await totalsAnswer(ctx, pageviews, q({ groupBy: '', measures: 'visitors' }))).answer;
    expect(describeUnique(week, 'visitors')).toEqual({
      value: week.totals[0]!.values.visitors,
      exactness: 'approximate',
      standardError: expect.closeTo(0.008125, 6),
      how: 'HyperLogLog estimate (standard error 0.81%): the union of the sketches of 20 batch bucket(s) of run run-1 and 6 speed bucket(s) from Redis',
    });
    const one = (await totalsAnswer(ctx, pageviews, q({ groupBy: '', filter: 'url:/a', from: String(T0 + 5 * H), to: String(T0 + 6 * H) }))).answer;
    expect(describeUnique(one, 'visitors')).toEqual({
      value: 30,
      exactness: 'exact',
      standardError: null,
      how: 'exact count of one stored group: 1 batch bucket(s) of run run-1',
    });
    const none = (await totalsAnswer(ctx, pageviews, q({ groupBy: '', filter: 'url:/nowhere' }))).answer;
    expect(describeUnique(none, 'visitors')).toMatchObject({ value: 0, exactness: 'exact' });
    const sketchless = (await totalsAnswer(fixture({ batchSketches: false }), pageviews, q({ groupBy: '' }))).answer;
    expect(describeUnique(sketchless, 'visitors')).toMatchObject({
      value: null,
      exactness: 'unavailable',
      how: expect.stringMatching(/keeps no HyperLogLog sketches/),
    });
  });
});
