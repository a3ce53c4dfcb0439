/**
 * The two parts a totals answer folds (query/totals.ts): the batch buckets' groups, a pure function
 * of one run and the query (so the serving cache keeps it per run), and the speed buckets' rows
 * folded on top of a copy. Folding is associative and the sketch unions are register-wise maxima,
 * so folding the parts apart gives the same totals as folding every row at once.
 */
import { chooseSource, servingBoundary, type Source } from '../../shared/merge.js';
import type { BatchRunInfo, BatchSnapshot, BucketRow, SeriesQuery } from '../../shared/ports.js';
import { granularityMs } from '../../shared/time.js';
import type { ViewDef } from '../../shared/views/definition.js';
import type { QueryContext } from './context.js';
import { maxAnswerRows } from './limits.js';
import type { ResolvedQuery } from './params.js';
import { combineValues, copyFolded, dimsRecord, foldedOf, type Folded } from './rollup.js';
import { runRange } from './series.js';
import { keptKey, unionSketches, type UnionSet } from './uniques.js';

export interface TotalGroup extends Folded {
  dims: Record<string, string | null>;
  /** buckets of this part (a copy starts empty: the parts' buckets never overlap) */
  buckets: Set<number>;
  /** buckets of the parts folded before, counted */
  earlierBuckets: number;
  /** stored rows combined */
  parts: number;
  /** whether rows came from the batch run / the speed layer */
  batch: boolean;
  speed: boolean;
}

/** Which layer answers each bucket of the range, and the ranges each layer is read over. */
export interface TotalsPlan {
  run: BatchRunInfo | null;
  boundary: number | null;
  sourceOf: (bucketStart: number) => Source;
  batchRange: { from: number; to: number } | null;
  speedRange: { from: number; to: number } | null;
  max: number;
  /** the store query without its range (the stores roll up to groupBy) */
  base: Omit<SeriesQuery, 'from' | 'to'>;
}

export function totalsPlan(ctx: QueryContext, snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery): TotalsPlan {
  const g = rq.granularity;
  const len = granularityMs(g);
  const run = snap.run;
  const boundary = servingBoundary(run?.watermark ?? null, g);
  const sourceOf = (b: number) => chooseSource(b, boundary);
  const max = maxAnswerRows(ctx);
  return {
    run,
    boundary,
    sourceOf,
    batchRange: runRange(
      rq.buckets.filter((b) => sourceOf(b) === 'batch'),
      len,
    ),
    speedRange: runRange(
      rq.buckets.filter((b) => sourceOf(b) === 'speed'),
      len,
    ),
    max,
    base: { view: view.name, granularity: g, filter: rq.filter, keep: rq.groupBy, maxRows: max },
  };
}

/** Folds stored rows into the groups of groupBy, in order of first appearance. */
export function foldRows(view: ViewDef, rq: ResolvedQuery, groups: Map<string, TotalGroup>, rows: readonly BucketRow[], fromBatch: boolean): void {
  for (const row of rows) {
    const key = keptKey(view, row.dims, rq.groupBy);
    const g = groups.get(key);
    if (!g) {
      groups.set(key, {
        dims: dimsRecord(view, row.dims, rq.groupBy),
        ...foldedOf(view, row),
        buckets: new Set([row.bucketStart]),
        earlierBuckets: 0,
        parts: row.parts ?? 1,
        batch: fromBatch,
        speed: !fromBatch,
      });
      continue;
    }
    combineValues(view, g, foldedOf(view, row));
    g.buckets.add(row.bucketStart);
    g.parts += row.parts ?? 1;
    if (fromBatch) g.batch = true;
    else g.speed = true;
  }
}

/**
 * A copy the speed part can fold into without changing a cached batch part. The batch and the
 * speed buckets of a range are disjoint (each bucket has one source), so the copy counts the
 * batch buckets instead of copying their set.
 */
export function copyGroups(groups: ReadonlyMap<string, TotalGroup>): Map<string, TotalGroup> {
  const out = new Map<string, TotalGroup>();
  for (const [k, g] of groups) out.set(k, { ...g, ...copyFolded(g), buckets: new Set(), earlierBuckets: g.earlierBuckets + g.buckets.size });
  return out;
}

/** The batch buckets' share of a totals answer: immutable while its run is published. */
export interface BatchTotals {
  groups: ReadonlyMap<string, TotalGroup>;
  /** rows read from the run (the answer's row bound counts them) */
  rows: number;
  /** per distinct measure, each group's batch sketches unioned: read on first need, then kept */
  unions: Map<string, Promise<UnionSet>>;
  /** called when a measure's unions have been read (the cache then weighs the part again) */
  onUnions?: () => void;
}

/** Roughly what a part holds in memory: its groups (counted 200 bytes each) and the unions read so far. */
export async function batchTotalsBytes(part: BatchTotals): Promise<number> {
  let bytes = part.groups.size * 200;
  for (const pending of part.unions.values()) {
    const set = await pending.catch(() => null);
    for (const u of set?.unions.values() ?? []) bytes += u.memoryBytes;
  }
  return bytes;
}

export function batchTotals(snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery, plan: TotalsPlan): BatchTotals {
  const rows = plan.batchRange ? snap.series({ ...plan.base, ...plan.batchRange }) : [];
  const groups = new Map<string, TotalGroup>();
  foldRows(
    view,
    rq,
    groups,
    rows.filter((r) => plan.sourceOf(r.bucketStart) === 'batch'),
    true,
  );
  return { groups, rows: rows.length, unions: new Map() };
}

/**
 * Every batch group's sketches of one distinct measure unioned (all groups at once, whichever asked
 * first: a cached part then serves any later answer). A failed read is not kept.
 */
export function batchUnions(
  ctx: QueryContext,
  snap: BatchSnapshot,
  view: ViewDef,
  rq: ResolvedQuery,
  plan: TotalsPlan,
  part: BatchTotals,
  measure: string,
): Promise<UnionSet> {
  let pending = part.unions.get(measure);
  if (pending === undefined) {
    pending = unionSketches(ctx, snap, view, rq, {
      measure,
      batchRange: plan.batchRange,
      speedRange: null,
      sourceOf: plan.sourceOf,
      needBatch: true,
      needSpeed: false,
      keyOf: (_b, dims) => keptKey(view, dims, rq.groupBy),
    });
    part.unions.set(measure, pending);
    pending.then(
      () => part.onUnions?.(),
      () => part.unions.delete(measure),
    );
  }
  return pending;
}
