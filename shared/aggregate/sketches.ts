/**
 * The sketches of an aggregate's distinct measures (issue 16): for every group and distinct
 * measure with members, the HyperLogLog PFADD would build from the same members, as Redis bytes.
 * The reference batch engine builds them from the exact member sets it already holds; a SQL
 * engine builds the same registers its own way (adapters/duckdb/sketch-rows.ts), and the
 * differential test holds the two to identical bytes.
 */
import { sketchOfMembers } from '../hll/sketch.js';
import type { GroupState } from './aggregate.js';
import type { StoredSketch } from './stored-group.js';

/** Lazily, so a run file can be written while they are built (no second copy of every sketch). */
export function* groupSketches(groups: Iterable<GroupState>): IterableIterator<StoredSketch> {
  for (const g of groups) {
    for (const measure in g.measures) {
      const state = g.measures[measure]!;
      if (state.kind !== 'distinct' || state.members.size === 0) continue;
      yield { view: g.view, granularity: g.granularity, bucketStart: g.bucketStart, dims: g.dims, measure, sketch: sketchOfMembers(state.members) };
    }
  }
}
