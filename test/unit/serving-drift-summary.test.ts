/**
 * Numbers that add up and warnings about what the user looks at (issue 12): the drift summary is
 * per measure with rowsDiffering <= rowsCompared, and `measures` narrows an answer, its warnings
 * and its unavailable list to the measures asked for (the dashboard asks for the one it shows).
 */
import { describe, it, expect } from 'vitest';
import { driftAnswer } from '../../serving-layer/query/drift.js';
import { seriesAnswer } from '../../serving-layer/query/series.js';
import { totalsAnswer } from '../../serving-layer/query/totals.js';
import { rangeQuery, resolveQuery } from '../../serving-layer/query/params.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import type { BucketRow } from '../../shared/ports.js';
import { isLambdaError } from '../../shared/errors.js';
import { FakeBatchStore, fakeContext, runInfo } from '../support/serving-fakes.js';

const views = defaultViewSet();
const M = 60_000;
const T0 = Date.UTC(2024, 4, 1, 10, 0);
const NOW = T0 + 60 * M;
const row = (view: string, bucketStart: number, dims: (string | null)[], values: BucketRow['values']): BucketRow => ({
  view,
  granularity: 'minute',
  bucketStart,
  dims,
  values,
});
const q = (view: string, extra: Record<string, string> = {}) =>
  resolveQuery(views.byName[view]!, rangeQuery.parse({ granularity: 'minute', from: String(T0), to: String(T0 + 10 * M), ...extra }), NOW);

describe('drift summary', () => {
  it('is per measure, and no measure has more differing rows than compared rows', async () => {
    const batch = new FakeBatchStore(views);
    // DE agrees in the first minute; FR reached only the speed layer, in three minutes (late
    // events the batch run does not have): batch 0 vs speed 1, a relative difference undefined.
    batch.publish(runInfo('run-1', T0 + 5 * M), [
      row('revenue', T0, ['DE'], { purchases: 2, revenue: 10.5, max_order: 7 }),
      row('revenue', T0 + M, ['DE'], { purchases: 1, revenue: 2, max_order: 2 }),
    ]);
    const ctx = fakeContext(views, NOW, batch);
    ctx.speed.rows = [
      { ...row('revenue', T0, ['DE'], { purchases: 2, revenue: 10.5, max_order: 7 }), late: 0, duplicates: 0, unchecked: 0 },
      { ...row('revenue', T0 + M, ['DE'], { purchases: 2, revenue: 4.99, max_order: 2.99 }), late: 1, duplicates: 0, unchecked: 0 },
      ...[0, 1, 2].map((i) => ({ ...row('revenue', T0 + i * M, ['FR'], { purchases: 1, revenue: 3, max_order: 3 }), late: 1, duplicates: 0, unchecked: 0 })),
    ];
    const d = await driftAnswer(ctx, views.byName.revenue!, q('revenue'));
    expect(d.bucketsCompared).toBe(5);
    expect(Object.keys(d.summary)).toEqual(['purchases', 'revenue', 'max_order']);
    for (const [measure, s] of Object.entries(d.summary)) {
      expect(s.rowsDiffering, measure).toBeLessThanOrEqual(s.rowsCompared);
      expect(s.rowsWithRelative, measure).toBeLessThanOrEqual(s.rowsCompared);
    }
    expect(d.summary.purchases).toEqual({ rowsCompared: 5, rowsDiffering: 4, rowsWithRelative: 2, meanRelative: 0.5, maxRelative: 1 });
    expect(d.summary.revenue).toMatchObject({ rowsCompared: 5, rowsDiffering: 4, rowsWithRelative: 2, maxRelative: 1.495 });
    // max_order: FR has no batch value at all (null vs 3): differing, with no relative difference.
    expect(d.summary.max_order).toMatchObject({ rowsCompared: 5, rowsDiffering: 4, rowsWithRelative: 2 });
    expect(d.summary.max_order!.maxRelative).toBeCloseTo(0.495, 10);
  });

  it('with measures=purchases, rows, summary and causes concern that measure only', async () => {
    const batch = new FakeBatchStore(views);
    batch.publish(runInfo('run-1', T0 + 5 * M), [row('pageviews', T0, ['/a'], { views: 2, visitors: 2 })]);
    const ctx = fakeContext(views, NOW, batch);
    ctx.speed.rows = [{ ...row('pageviews', T0, ['/a'], { views: 2, visitors: 3 }), late: 0, duplicates: 0, unchecked: 0 }];
    const all = await driftAnswer(ctx, views.byName.pageviews!, q('pageviews'));
    expect(all.buckets[0]!.causes.map((c) => c.cause)).toEqual(['hll_estimate']);
    const views_ = await driftAnswer(ctx, views.byName.pageviews!, q('pageviews', { measures: 'views' }));
    expect(Object.keys(views_.summary)).toEqual(['views']);
    expect(Object.keys(views_.buckets[0]!.rows[0]!.measures)).toEqual(['views']);
    expect(views_.buckets[0]!.causes).toEqual([]);
  });
});

describe('warnings name only the measures asked for', () => {
  function pageviewsCtx() {
    // A batch run that keeps no sketches (LAMBDA_BATCH_SKETCHES=false): rolled up, the distinct
    // visitors of its buckets cannot be unioned, so they are null and warned about.
    const batch = new FakeBatchStore(views);
    batch.publish(runInfo('run-1', T0 + 5 * M), [
      row('pageviews', T0, ['/a'], { views: 2, visitors: 2 }),
      row('pageviews', T0, ['/b'], { views: 1, visitors: 1 }),
    ]);
    return fakeContext(views, NOW, batch);
  }
  const pageviews = views.byName.pageviews!;

  it('series rolled up to no dimension: a count is asked for, so no warning about the distinct visitors', async () => {
    const ctx = pageviewsCtx();
    // What the dashboard asked before: every measure, so the warning named visitors while it
    // showed views.
    const everything = (await seriesAnswer(ctx, pageviews, q('pageviews', { groupBy: '' }))).answer;
    expect(everything.warnings.join(' ')).toMatch(/visitors/);
    const one = (await seriesAnswer(ctx, pageviews, q('pageviews', { groupBy: '', measures: 'views' }))).answer;
    expect(one.warnings.join(' ')).not.toMatch(/visitors/);
    expect(one.unavailable).toEqual([]);
    expect(Object.keys(one.measures)).toEqual(['views']);
    expect(one.buckets[0]!.groups).toEqual([{ dims: {}, values: { views: 3 } }]);
    const distinct = (await seriesAnswer(ctx, pageviews, q('pageviews', { groupBy: '', measures: 'visitors' }))).answer;
    expect(distinct.unavailable).toEqual(['visitors']);
    expect(distinct.warnings.join(' ')).toMatch(/distinct measure\(s\) visitors are null/);
  });

  it('totals: unavailable and approximate list only the measures asked for', async () => {
    const ctx = pageviewsCtx();
    const one = (await totalsAnswer(ctx, pageviews, q('pageviews', { groupBy: '', measures: 'views' }))).answer;
    expect(one.unavailable).toEqual({});
    expect(one.approximate).toEqual([]);
    expect(one.totals).toEqual([{ dims: {}, values: { views: 3 }, buckets: 1 }]);
  });

  it('an unknown or repeated measure is a 400 naming "measures"', () => {
    for (const [measures, message] of [
      ['views,clicks', /query parameter "measures": view "pageviews" has no measure "clicks"/],
      ['views,views', /query parameter "measures": measure "views" is listed more than once/],
      ['', /query parameter "measures": name at least one measure/],
    ] as const) {
      let err: unknown;
      try {
        q('pageviews', { measures });
      } catch (e) {
        err = e;
      }
      expect(isLambdaError(err) && err.code, measures).toBe('VALIDATION');
      expect((err as Error).message, measures).toMatch(message);
    }
  });
});
