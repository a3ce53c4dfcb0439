/** The measure table (docs/design-decisions.md, "Measure algebra"), with avg as the kind of two cells. */
import { describe, expect, it } from 'vitest';
import { Aggregate, groupKey } from '../../shared/aggregate/aggregate.js';
import { finalizeMeasures } from '../../shared/aggregate/finalize.js';
import { emptyValue, isSketched, measureCells, measureFold, rollsUp, viewCells } from '../../shared/aggregate/measure-kinds.js';
import { toStoredGroup } from '../../shared/aggregate/stored-group.js';
import { referenceFold, validDeduped } from '../../shared/reference-fold.js';
import { viewSetFromDocument } from '../../shared/views/load.js';
import { rollUp } from '../../serving-layer/query/rollup.js';
import type { BucketRow } from '../../shared/ports.js';

const views = viewSetFromDocument(
  {
    views: [
      {
        name: 'orders',
        dimensions: ['country'],
        measures: { n: { type: 'count' }, mean: { type: 'avg', field: 'amount' }, top: { type: 'max', field: 'amount' } },
        granularities: ['hour'],
      },
    ],
  },
  'test',
);
const view = views.byName.orders!;
const T = Date.UTC(2024, 0, 1);
const events = [
  { id: 'a', ts: T, country: 'DE', amount: 0.1 },
  { id: 'b', ts: T + 1, country: 'DE', amount: 0.2 },
  { id: 'c', ts: T + 2, country: 'DE' },
  { id: 'd', ts: T + 3, country: 'FR', amount: 10 },
  { id: 'e', ts: T + 4, country: 'JP' },
];

describe('measure table', () => {
  it('avg is a scaled measure of two cells: sum(field) and count(field), named after the measure', () => {
    expect(view.measures.mean).toEqual({ type: 'avg', field: 'amount', decimals: 2 });
    expect(measureCells('mean', view.measures.mean!).map((c) => [c.name, c.kind, c.ofField])).toEqual([
      ['mean', 'sum', false],
      ['mean.count', 'count', true],
    ]);
    expect(viewCells(view).map((c) => c.name)).toEqual(['n', 'mean', 'mean.count', 'top']);
    expect([rollsUp(view.measures.mean!), isSketched(view.measures.mean!), emptyValue(view.measures.mean!)]).toEqual([true, false, null]);
    expect(measureFold(view.measures.mean!)).toEqual({ decimals: 2, empty: null, combine: null, sketched: false });
    expect(measureFold(view.measures.top!)).toEqual({ decimals: 2, empty: null, combine: 'max', sketched: false });
  });

  it('the aggregate keeps cells and finalizes to the reference fold; a group without the field has no average', () => {
    const agg = new Aggregate();
    for (const e of validDeduped(events, views)) agg.add(e, views);
    const got = new Map([...agg.groups()].map((g) => [groupKey(g.view, g.granularity, g.bucketStart, g.dims), finalizeMeasures(view, g.measures)]));
    expect(got).toEqual(referenceFold(events, views));
    const de = [...agg.groups()].find((g) => g.dims[0] === 'DE')!;
    expect(toStoredGroup(de).values).toEqual({ n: 3, mean: 30, 'mean.count': 2, top: 20 });
    expect(got.get(groupKey('orders', 'hour', T, ['DE']))?.mean).toBeCloseTo(0.15, 12);
    expect(got.get(groupKey('orders', 'hour', T, ['JP']))?.mean).toBeNull();
  });

  it('rolls up by cells: the average of the union, not the average of the averages', () => {
    const agg = new Aggregate();
    for (const e of validDeduped(events, views)) agg.add(e, views);
    const rows: BucketRow[] = [...agg.groups()].map((g) => {
      const s = toStoredGroup(g);
      return {
        view: g.view,
        granularity: g.granularity,
        bucketStart: g.bucketStart,
        dims: [...g.dims],
        values: finalizeMeasures(view, g.measures),
        cells: { ...s.values },
      };
    });
    const [all] = rollUp(view, rows, []).get(T)!;
    expect(all!.values).toEqual({ n: 5, mean: 10.3 / 3, top: 10 });
    expect(all!.cells).toEqual({ n: 5, mean: 1030, 'mean.count': 3, top: 1000 });
  });
});
