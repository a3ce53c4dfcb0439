/**
 * The Kappa rebuild's pure rules (docs/design-decisions.md, "Lambda vs Kappa"): which lines of a
 * segment lie below a log start, and how a bucket is judged from both layers' rows.
 */
import { describe, expect, it } from 'vitest';
import { compareKappa } from '../../shared/kappa/compare.js';
import { addLostEvents, lostLines, lostOf } from '../../shared/kappa/lost-buckets.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import type { BucketRow } from '../../shared/ports.js';

const views = defaultViewSet();
const revenue = views.byName.revenue!;

const row = (bucketStart: number, country: string, purchases: number, sum: number, max: number | null): BucketRow => ({
  view: 'revenue',
  granularity: 'minute',
  bucketStart,
  dims: [country],
  values: { purchases, revenue: sum, max_order: max },
});

describe('lostLines', () => {
  it('counts the lines below the log start, exactly when the segment has a line per offset', () => {
    expect(lostLines({ firstOffset: 0, endOffset: 10, lines: 10 }, 0)).toEqual({ lost: 0, exact: true });
    expect(lostLines({ firstOffset: 0, endOffset: 10, lines: 10 }, 10)).toEqual({ lost: 10, exact: true });
    expect(lostLines({ firstOffset: 0, endOffset: 10, lines: 8 }, 12)).toEqual({ lost: 8, exact: true });
    expect(lostLines({ firstOffset: 10, endOffset: 20, lines: 10 }, 14)).toEqual({ lost: 4, exact: true });
    expect(lostLines({ firstOffset: 20, endOffset: 30, lines: 10 }, 14)).toEqual({ lost: 0, exact: true });
    // Two invalid records somewhere in the range: the first 4 lines may be below offset 14.
    expect(lostLines({ firstOffset: 10, endOffset: 20, lines: 8 }, 14)).toEqual({ lost: 4, exact: false });
  });

  it('counts lost events per bucket of every view whose filter they match', () => {
    const into = new Map<string, number>();
    const n = addLostEvents(
      [
        JSON.stringify({ id: 'a', ts: 60_000, type: 'pageview', url: '/x', user: 'u' }),
        JSON.stringify({ id: 'b', ts: 61_000, type: 'purchase', country: 'fr', amount: 2.5 }),
        'not json',
      ],
      views,
      into,
    );
    expect(n).toBe(2);
    expect(lostOf(into, 'pageviews', 'minute')).toEqual(new Map([[60_000, 1]]));
    expect(lostOf(into, 'revenue', 'hour')).toEqual(new Map([[0, 1]]));
  });
});

describe('compareKappa', () => {
  it('judges each bucket before the boundary: equal, not rebuildable, newer in the log, different', () => {
    const batchRows = [
      row(0, 'fr', 2, 5.5, 3),
      row(0, 'de', 1, 1.25, 1.25),
      row(60_000, 'fr', 1, 1, 1),
      row(120_000, 'fr', 3, 3, 1),
      row(180_000, 'fr', 1, 1, 1),
      row(240_000, 'fr', 9, 9, 1),
    ];
    const kappaRows = [
      row(0, 'de', 1, 1.25, 1.25),
      row(0, 'fr', 2, 5.5, 3),
      row(120_000, 'fr', 2, 2, 1),
      row(180_000, 'fr', 2, 2, 1),
      row(240_000, 'fr', 1, 1, 1),
    ];
    const c = compareKappa({
      view: revenue,
      granularity: 'minute',
      boundary: 240_000,
      batchRows,
      kappaRows,
      lost: new Map([[120_000, 1]]),
      newer: new Map([[180_000, 1]]),
      maxBuckets: 10,
    });
    expect(c.counts).toEqual({ equal: 1, not_rebuildable: 1, newer_in_log: 1, different: 1 });
    expect(c.buckets.map((b) => [b.start, b.status])).toEqual([
      [180_000, 'newer_in_log'],
      [120_000, 'not_rebuildable'],
      [60_000, 'different'],
      [0, 'equal'],
    ]);
    expect(c.buckets[3]).toMatchObject({
      batch: { purchases: 3, revenue: 6.75, max_order: 3 },
      kappa: { purchases: 3, revenue: 6.75, max_order: 3 },
      groupsDiffering: 0,
    });
    expect(c.buckets[2]).toMatchObject({ batch: { purchases: 1 }, kappa: { purchases: 0, max_order: null }, groupsDiffering: 1 });
  });

  it('lists the buckets that are not equal first, and counts what it leaves out', () => {
    const rows = [0, 60_000, 120_000].map((s) => row(s, 'fr', 1, 1, 1));
    const c = compareKappa({
      view: revenue,
      granularity: 'minute',
      boundary: 1e9,
      batchRows: rows,
      kappaRows: rows.slice(1),
      lost: new Map(),
      newer: new Map(),
      maxBuckets: 2,
    });
    expect(c.buckets.map((b) => [b.start, b.status])).toEqual([
      [0, 'different'],
      [120_000, 'equal'],
    ]);
    expect(c.omitted).toBe(1);
  });
});
