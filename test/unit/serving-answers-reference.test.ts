/**
 * The serving answers against the reference fold (issue 19): a generated clickstream, folded into
 * in-memory fakes of the two view stores (test/support/fold-layers.ts), answered by seriesAnswer,
 * totalsAnswer and driftAnswer, and each number compared with referenceTotals of the same records.
 * No services: the whole file runs in well under a second.
 */
import { describe, expect, it } from 'vitest';
import { clickstream, type GeneratedRecord } from '../../shared/generator/clickstream.js';
import { referenceFold, referenceTotals, type FinalValues } from '../../shared/reference-fold.js';
import { floorTo, type Granularity } from '../../shared/time.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import type { ViewDef } from '../../shared/views/definition.js';
import { project } from '../../shared/views/project.js';
import { rangeQuery, resolveQuery } from '../../serving-layer/query/params.js';
import { seriesAnswer } from '../../serving-layer/query/series.js';
import { totalsAnswer } from '../../serving-layer/query/totals.js';
import { driftAnswer } from '../../serving-layer/query/drift.js';
import { eventOf, foldLayers } from '../support/fold-layers.js';

const views = defaultViewSet();
const M = 60_000;
const T0 = Date.UTC(2024, 4, 1, 10, 0);
/** 40 minutes at 2 records a second; no late events, so event time follows emission order */
const records: GeneratedRecord[] = [];
for (const r of clickstream({ seed: 19, startTs: T0, rate: 2, urls: 12, users: 300, purchaseFraction: 0.2, duplicateFraction: 0.05, invalidFraction: 0.02 })) {
  if (records.length === 40 * 60 * 2) break;
  records.push(r);
}
const W = T0 + 25 * M;
const COVERED_SINCE = T0 + 15 * M;
const NOW = T0 + 45 * M;
const { ctx, served } = foldLayers({ views, records, watermark: W, batchReadsBefore: W + 2 * M, coveredSince: COVERED_SINCE, now: NOW });

const query = (view: ViewDef, extra: Record<string, string> = {}) =>
  resolveQuery(view, rangeQuery.parse({ granularity: 'minute', from: String(T0), to: String(T0 + 40 * M), ...extra }), NOW);

/**
 * The reference's groups of one view over [from, to), as the answers list them (dims by name): the
 * fold of the records the answer should count (each bucket's from the layer that owns it).
 */
function reference(
  view: ViewDef,
  g: Granularity,
  from: number,
  to: number,
  filter?: Record<string, string | null>,
): { dims: Record<string, string | null>; values: FinalValues }[] {
  const totals = referenceTotals(served(g), views, { view: view.name, granularity: g, from, to, filter });
  return [...totals].map(([key, v]) => ({
    dims: Object.fromEntries(view.dimensions.map((d, i) => [d, (JSON.parse(key) as (string | null)[])[i] ?? null])),
    values: v,
  }));
}

/** Per stored group (minute buckets), the reference fold of what the answer should count: folded once for every bucket. */
const foldedMinutes = referenceFold(served('minute'), views);
function referenceBucket(view: ViewDef, bucketStart: number): { dims: Record<string, string | null>; values: FinalValues }[] {
  return [...foldedMinutes]
    .map(([key, v]) => ({ key: JSON.parse(key) as [string, Granularity, number, (string | null)[]], values: v }))
    .filter(({ key }) => key[0] === view.name && key[1] === 'minute' && key[2] === bucketStart)
    .map(({ key, values }) => ({ dims: Object.fromEntries(view.dimensions.map((d, i) => [d, key[3][i] ?? null])), values }));
}

const byDims = <T extends { dims: Record<string, string | null> }>(xs: readonly T[]) =>
  [...xs].sort((a, b) => JSON.stringify(a.dims).localeCompare(JSON.stringify(b.dims)));
const distinctOf = (view: ViewDef) =>
  Object.entries(view.measures)
    .filter(([, d]) => d.type === 'distinct')
    .map(([n]) => n);

describe('serving answers on folded fakes equal the reference fold', () => {
  it('has both layers and the duplicates they disagree on', () => {
    expect(records.filter((r) => r.kind === 'duplicate').length).toBeGreaterThan(100);
    expect(records.filter((r) => r.kind === 'invalid').length).toBeGreaterThan(20);
    expect(ctx.batch.latestRun()?.watermark).toBe(W);
  });

  for (const view of views.views) {
    it(`series of ${view.name}: every group of every bucket, each bucket from the layer that owns it`, async () => {
      const { answer, incompleteCount } = await seriesAnswer(ctx, view, query(view));
      expect(incompleteCount).toBe(0);
      expect(answer.buckets).toHaveLength(40);
      for (const b of answer.buckets) {
        expect(b.source).toBe(b.start < W ? 'batch' : 'speed');
        expect(b.complete).toBe(true);
        // Every dimension kept: each group is one stored row, so distinct values are exact too.
        expect(byDims(b.groups)).toEqual(byDims(referenceBucket(view, b.start)));
      }
    });

    it(`totals of ${view.name} per group over batch and speed buckets: exact, distinct unions within the HyperLogLog error`, async () => {
      const { answer } = await totalsAnswer(ctx, view, query(view));
      expect(answer.sources).toEqual({ batchBuckets: 25, speedBuckets: 15 });
      const want = byDims(reference(view, 'minute', T0, T0 + 40 * M));
      const got = byDims(answer.totals);
      expect(got.map((t) => t.dims)).toEqual(want.map((t) => t.dims));
      const distinct = distinctOf(view);
      got.forEach((t, i) => {
        const expected = want[i]!.values;
        for (const [m, v] of Object.entries(t.values)) {
          if (distinct.includes(m)) expect(Math.abs((v ?? 0) - expected[m]!) / expected[m]!).toBeLessThan(0.03);
          else expect(v).toBe(expected[m]);
        }
      });
      expect(answer.approximate).toEqual(distinct);
    });
  }

  it('totals rolled up to no dimension, and filtered: the sum of the reference groups', async () => {
    const revenue = views.byName.revenue!;
    const all = (await totalsAnswer(ctx, revenue, query(revenue, { groupBy: '' }))).answer.totals;
    const ref = reference(revenue, 'minute', T0, T0 + 40 * M);
    expect(all).toHaveLength(1);
    expect(all[0]!.values.purchases).toBe(ref.reduce((n, g) => n + g.values.purchases!, 0));
    expect(all[0]!.values.revenue).toBeCloseTo(
      ref.reduce((n, g) => n + g.values.revenue!, 0),
      2,
    );
    expect(all[0]!.values.max_order).toBe(Math.max(...ref.map((g) => g.values.max_order!)));
    const us = (await totalsAnswer(ctx, revenue, query(revenue, { filter: 'country:US' }))).answer.totals;
    expect(us.map((t) => t.values)).toEqual(reference(revenue, 'minute', T0, T0 + 40 * M, { country: 'US' }).map((g) => g.values));
  });

  it("an hour series: the hour holding W is the speed layer's and incomplete (it started mid-hour), the one before is the batch run's", async () => {
    const pageviews = views.byName.pageviews!;
    const { answer } = await seriesAnswer(ctx, pageviews, query(pageviews, { granularity: 'hour', from: String(T0 - 60 * M), groupBy: '' }));
    expect(answer.buckets.map((b) => [b.source, b.complete])).toEqual([
      ['batch', true],
      ['speed', false],
    ]);
    expect(answer.incomplete).toEqual([{ bucketStart: T0, source: 'speed', reason: 'speed_not_covered' }]);
  });

  it("drift: batch values are the reference, speed values count the copies again, and each bucket's difference is its copies, all explained", async () => {
    const pageviews = views.byName.pageviews!;
    const d = await driftAnswer(ctx, pageviews, query(pageviews));
    const compared = Array.from({ length: 10 }, (_, i) => COVERED_SINCE + i * M);
    expect(d.buckets.map((b) => b.start)).toEqual(compared);
    expect(d.notCompared.map((b) => b.start)).toEqual(Array.from({ length: 15 }, (_, i) => T0 + i * M));
    expect(d.unexplainedEvents).toBe(0);
    for (const b of d.buckets) {
      // Copies of page views in this minute, counted from the generated stream itself.
      const copies = records.filter((r) => {
        const e = r.kind === 'duplicate' ? eventOf(r, views) : null;
        return e !== null && project(pageviews, e) !== null && floorTo(e.ts, 'minute') === b.start;
      }).length;
      expect(b.countDiff).toBe(copies);
      expect(b.duplicates).toBe(copies);
      expect(b.unexplained).toBe(0);
      if (copies > 0) expect(b.causes).toContainEqual(expect.objectContaining({ cause: 'duplicates', events: copies, exact: true }));
      const ref = referenceBucket(pageviews, b.start);
      expect(byDims(b.rows).map((r) => ({ dims: r.dims, views: r.measures.views!.batch, visitors: r.measures.visitors!.batch }))).toEqual(
        byDims(ref).map((g) => ({ dims: g.dims, views: g.values.views, visitors: g.values.visitors })),
      );
      // A copy is the same visitor: dedupe off changes counts, never distinct members.
      for (const r of b.rows) expect(r.measures.visitors!.speed).toBe(r.measures.visitors!.batch);
    }
    expect(d.summary.views!.rowsDiffering).toBeGreaterThan(0);
  });
});
