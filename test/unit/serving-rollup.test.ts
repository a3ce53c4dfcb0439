/** Rolling bucket rows up to fewer dimensions: each measure's own monoid, exact sums, no guessed distinct. */
import { describe, it, expect } from 'vitest';
import { rollUp, unavailableDistinct } from '../../serving-layer/query/rollup.js';
import { viewSetFromDocument } from '../../shared/views/load.js';
import type { BucketRow } from '../../shared/ports.js';

const views = viewSetFromDocument(
  {
    views: [
      {
        name: 'sales',
        dimensions: ['country', 'channel'],
        measures: {
          orders: { type: 'count' },
          revenue: { type: 'sum', field: 'amount', decimals: 2 },
          smallest: { type: 'min', field: 'amount' },
          largest: { type: 'max', field: 'amount' },
          buyers: { type: 'distinct', field: 'user' },
        },
        granularities: ['hour'],
      },
    ],
  },
  'test',
);
const view = views.byName.sales!;
const row = (bucketStart: number, dims: (string | null)[], values: Record<string, number | null>): BucketRow => ({
  view: 'sales',
  granularity: 'hour',
  bucketStart,
  dims,
  values,
});

describe('rollUp', () => {
  const rows = [
    row(0, ['DE', 'web'], { orders: 3, revenue: 0.1, smallest: 0.1, largest: 0.1, buyers: 2 }),
    row(0, ['DE', 'app'], { orders: 2, revenue: 0.2, smallest: 0.05, largest: 0.2, buyers: 1 }),
    row(0, ['FR', 'web'], { orders: 1, revenue: 19.99, smallest: 19.99, largest: 19.99, buyers: 1 }),
    row(3_600_000, ['DE', null], { orders: 1, revenue: 5, smallest: null, largest: null, buyers: 1 }),
  ];

  it('adds counts, adds sums exactly (0.1 + 0.2 is 0.3), and compares min and max', () => {
    const byBucket = rollUp(view, rows, ['country']);
    const de = byBucket.get(0)!.find((g) => g.dims.country === 'DE')!;
    expect(de.values.orders).toBe(5);
    expect(de.values.revenue).toBe(0.3);
    expect(de.values.smallest).toBe(0.05);
    expect(de.values.largest).toBe(0.2);
    expect(de.parts).toBe(2);
    // The stored cells ride along (scaled integers), derived from the values of a hand-built row.
    expect(byBucket.get(3_600_000)!).toEqual([
      { dims: { country: 'DE' }, values: rows[3]!.values, cells: { orders: 1, revenue: 500, smallest: null, largest: null, buyers: 1 }, parts: 1 },
    ]);
  });

  it('never adds exact distinct counts: a combined distinct is null and reported unavailable', () => {
    const byBucket = rollUp(view, rows, ['country']);
    const groups = byBucket.get(0)!;
    expect(groups.find((g) => g.dims.country === 'DE')!.values.buyers).toBeNull();
    expect(groups.find((g) => g.dims.country === 'FR')!.values.buyers).toBe(1);
    expect(unavailableDistinct(view, groups)).toEqual(['buyers']);
    expect(unavailableDistinct(view, rollUp(view, rows, ['country', 'channel']).get(0)!)).toEqual([]);
  });

  it('an empty groupBy sums everything per bucket; a missing dimension value stays null', () => {
    const all = rollUp(view, rows, []).get(0)!;
    expect(all).toHaveLength(1);
    expect(all[0]!.values.orders).toBe(6);
    expect(all[0]!.values.revenue).toBe(20.29);
    const byChannel = rollUp(view, rows, ['channel']).get(3_600_000)!;
    expect(byChannel[0]!.dims).toEqual({ channel: null });
  });
});
