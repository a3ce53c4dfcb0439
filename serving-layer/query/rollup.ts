/**
 * Rolls bucket rows up to the dimensions asked for (`groupBy`) and over a range (totals), with
 * each cell's own monoid on the stored cells (shared/aggregate/measure-kinds.ts), then finalized:
 * counts and sums add scaled integers (no floating-point noise), min and max compare, an average
 * adds its sum and count. An exact distinct count cannot be combined from
 * parts (the same visitor may be in both), so a rolled-up distinct is `null` here, never guessed;
 * the series and totals then fill it with the union of the combined groups' sketches
 * (uniques.ts, issue 16).
 */
import { keepsEveryDimension, type ViewDef } from '../../shared/views/definition.js';
import { combineCells, finalizeCells, rowCells, rollsUp } from '../../shared/aggregate/measure-kinds.js';
import type { BucketRow } from '../../shared/ports.js';

export type Values = Record<string, number | null>;

/** Values with the stored cells they finalize from: what folds exactly (shared/aggregate/measure-kinds.ts). */
export interface Folded {
  values: Values;
  cells: Values;
}

export interface Group extends Folded {
  dims: Record<string, string | null>;
  /** how many source rows were combined into this group */
  parts: number;
}

/** A row's values and cells, copied: the start of a fold. */
export function foldedOf(view: ViewDef, row: Pick<BucketRow, 'values' | 'cells'>): Folded {
  return { values: { ...row.values }, cells: rowCells(view, row) };
}

export function copyFolded(f: Folded): Folded {
  return { values: { ...f.values }, cells: { ...f.cells } };
}

/** into := into ⊕ add: the cells combine by their monoids, the values are finalized again from them. */
export function combineValues(view: ViewDef, into: Folded, add: Folded): void {
  combineCells(view, into.cells, add.cells);
  Object.assign(into.values, finalizeCells(view, into.cells));
}

export function dimsRecord(view: ViewDef, dims: readonly (string | null)[], keep: readonly string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  view.dimensions.forEach((d, i) => {
    if (keep.includes(d)) out[d] = dims[i] ?? null;
  });
  return out;
}

/** Groups rows by (bucket, kept dimensions); a group of one stored row keeps its distinct values. */
export function rollUp(view: ViewDef, rows: readonly BucketRow[], groupBy: readonly string[]): Map<number, Group[]> {
  const byBucket = new Map<number, Map<string, Group>>();
  const identity = keepsEveryDimension(view, groupBy);
  for (const row of rows) {
    const dims = dimsRecord(view, row.dims, groupBy);
    let groups = byBucket.get(row.bucketStart);
    if (!groups) byBucket.set(row.bucketStart, (groups = new Map()));
    // Keeping every dimension, each row is its own group (a store holds one row per bucket and
    // dims, and the merge takes each bucket from one layer): no key to build, nothing to combine.
    const key = identity ? String(groups.size) : JSON.stringify(groupBy.map((d) => dims[d] ?? null));
    const g = identity ? undefined : groups.get(key);
    if (!g) groups.set(key, { dims, ...foldedOf(view, row), parts: row.parts ?? 1 });
    else {
      combineValues(view, g, foldedOf(view, row));
      g.parts += row.parts ?? 1;
    }
  }
  return new Map([...byBucket].map(([b, groups]) => [b, [...groups.values()]]));
}

/** Names of the measures that do not roll up (distinct) and became unavailable because parts were combined. */
export function unavailableDistinct(view: ViewDef, groups: Iterable<Group>): string[] {
  const names = Object.entries(view.measures)
    .filter(([, d]) => !rollsUp(d))
    .map(([n]) => n);
  for (const g of groups) if (g.parts > 1) return names;
  return [];
}

/** The values of the measures asked for (`measures` query parameter), in that order. */
export function pickMeasures(values: Values, measures: readonly string[]): Values {
  const out: Values = {};
  for (const m of measures) out[m] = values[m] ?? null;
  return out;
}
