/**
 * Rolls bucket rows up to the dimensions asked for (`groupBy`) and over a range (totals), with
 * each measure's own monoid on final values: counts and sums add (sums on scaled integers, so no
 * floating-point noise), min and max compare. An exact distinct count cannot be combined from
 * parts (the same visitor may be in both), so a rolled-up distinct is `null` here, never guessed;
 * the series and totals then fill it with the union of the combined groups' sketches
 * (uniques.ts, issue 16).
 */
import { keepsEveryDimension, type ViewDef, type MeasureDef } from '../../shared/views/definition.js';
import { pow10, unscale } from '../../shared/decimal.js';
import type { BucketRow } from '../../shared/ports.js';

export type Values = Record<string, number | null>;

export interface Group {
  dims: Record<string, string | null>;
  values: Values;
  /** how many source rows were combined into this group */
  parts: number;
}

function combine(def: MeasureDef, a: number | null, b: number | null): number | null {
  if (a === null) return def.type === 'distinct' ? null : b;
  if (b === null) return def.type === 'distinct' ? null : a;
  switch (def.type) {
    case 'count':
      return a + b;
    case 'sum': {
      const p = pow10(def.decimals);
      return unscale(Math.round(a * p) + Math.round(b * p), def.decimals);
    }
    case 'min':
      return Math.min(a, b);
    case 'max':
      return Math.max(a, b);
    case 'distinct':
      return null;
  }
}

export function combineValues(view: ViewDef, into: Values, add: Values): void {
  for (const [name, def] of Object.entries(view.measures)) {
    into[name] = combine(def, into[name] ?? (def.type === 'count' || def.type === 'sum' ? 0 : null), add[name] ?? null);
  }
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
    if (!g) groups.set(key, { dims, values: { ...row.values }, parts: row.parts ?? 1 });
    else {
      combineValues(view, g.values, row.values);
      g.parts += row.parts ?? 1;
    }
  }
  return new Map([...byBucket].map(([b, groups]) => [b, [...groups.values()]]));
}

/** Names of the distinct measures that became unavailable because parts were combined. */
export function unavailableDistinct(view: ViewDef, groups: Iterable<Group>): string[] {
  const names = Object.entries(view.measures)
    .filter(([, d]) => d.type === 'distinct')
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
