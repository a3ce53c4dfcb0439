/**
 * A group as a batch run file stores it: one exact integer (or null) per measure, the monoid's
 * result (adapters/sqlite/run-schema.ts). It is the form every batch engine hands to the run-file
 * writer: the reference engine converts its monoid states, a SQL engine produces it directly
 * (count(*), count(DISTINCT ...), sums of scaled integers), so neither has to build the other's
 * intermediate state (a SQL engine never materialises distinct members as JS sets).
 */
import type { Granularity } from '../time.js';
import type { GroupState } from './aggregate.js';
import type { MeasureState } from './monoids.js';

export interface StoredGroup {
  readonly view: string;
  readonly granularity: Granularity;
  readonly bucketStart: number;
  readonly dims: readonly (string | null)[];
  /** cell name (measure-kinds.ts) -> count; sum/min/max scaled (min/max null when no event carried the field); distinct = members */
  readonly values: Readonly<Record<string, number | null>>;
}

/**
 * One distinct measure of one group as a run file keeps it beside the exact count (issue 16): the
 * HyperLogLog of the group's members, in Redis's own string format (shared/hll), so sketches of
 * several buckets and groups, and the speed layer's HLLs, union into distinct counts over any
 * range. A group whose measure has no member has no sketch (the empty sketch).
 */
export interface StoredSketch {
  readonly view: string;
  readonly granularity: Granularity;
  readonly bucketStart: number;
  readonly dims: readonly (string | null)[];
  readonly measure: string;
  /** Redis HyperLogLog bytes: sparse while small, dense otherwise (shared/hll/sketch.ts) */
  readonly sketch: Uint8Array;
}

/** The integer a column stores for a cell's monoid state. */
export function storedValue(state: MeasureState): number | null {
  switch (state.kind) {
    case 'count':
      return state.n;
    case 'sum':
    case 'min':
    case 'max':
      return state.v;
    case 'distinct':
      return state.members.size;
  }
}

export function toStoredGroup(g: GroupState): StoredGroup {
  const values: Record<string, number | null> = {};
  for (const name in g.measures) values[name] = storedValue(g.measures[name] as MeasureState);
  return { view: g.view, granularity: g.granularity, bucketStart: g.bucketStart, dims: g.dims, values };
}

export function* toStoredGroups(groups: Iterable<GroupState>): IterableIterator<StoredGroup> {
  for (const g of groups) yield toStoredGroup(g);
}
