/**
 * The Kappa rebuild's comparison (docs/design-decisions.md, "Lambda vs Kappa"): the views a replay
 * of the event log through the speed layer's code computed, beside the published batch run's, per
 * bucket of one view at one granularity. Pure: the rows come from the two stores, the lost and
 * newer counts from the rebuild's own reads.
 *
 * A bucket is
 * - `not_rebuildable` when records of it were deleted from the log before the replay (retention,
 *   deleteRecords): the master dataset still holds them, the log does not, so Kappa cannot
 *   recompute it; named even if the numbers happen to agree (a retained copy of a deleted event);
 * - `equal` when every group has the same value of every exact measure in both;
 * - `newer_in_log` when it differs and the replay applied events of it that arrived after the
 *   batch run's snapshot (late-class events past the run's `through`: the only events a run can
 *   lack in a bucket before its boundary, docs/design-decisions.md "Drift"), and the count
 *   difference is exactly those events;
 * - `different` otherwise (which should not happen: it is the comparison's alarm).
 * Distinct measures are HyperLogLog estimates in the speed layer by design and are not compared
 * (the drift report covers them as `hll_estimate`).
 */
import { combineCells, countsEvents, finalizeCells, isSketched, rowCells } from '../aggregate/measure-kinds.js';
import type { BucketRow } from '../ports.js';
import type { Granularity } from '../time.js';
import type { ViewDef } from '../views/definition.js';

export type KappaBucketStatus = 'equal' | 'different' | 'not_rebuildable' | 'newer_in_log';

export interface KappaBucket {
  start: number;
  status: KappaBucketStatus;
  /** per exact measure, the bucket's total over its groups (counts and sums add, min/max compare) */
  batch: Record<string, number | null>;
  kappa: Record<string, number | null>;
  /** groups (dimension tuples) whose values differ between the two */
  groupsDiffering: number;
  /** events of this bucket deleted from the log before the replay (from the master dataset) */
  lostEvents: number;
  /** events the replay applied here that arrived after the batch run's snapshot */
  newerEvents: number;
}

export interface KappaComparison {
  view: string;
  granularity: Granularity;
  /** buckets starting before this (floor_g(W) of the batch run) are compared */
  boundary: number;
  counts: Record<KappaBucketStatus, number>;
  /** newest first, buckets that are not `equal` before the equal ones; at most `maxBuckets` */
  buckets: KappaBucket[];
  /** compared buckets left out of `buckets` (their statuses are still in `counts`) */
  omitted: number;
}

export interface CompareInput {
  view: ViewDef;
  granularity: Granularity;
  boundary: number;
  batchRows: readonly BucketRow[];
  kappaRows: readonly BucketRow[];
  /** bucket start -> events deleted from the log */
  lost: ReadonlyMap<number, number>;
  /** bucket start -> events applied by the replay past the run's snapshot */
  newer: ReadonlyMap<number, number>;
  maxBuckets: number;
}

/** The measures compared: every one but the distinct (HyperLogLog in the speed layer). */
export function exactMeasures(view: ViewDef): string[] {
  return Object.entries(view.measures)
    .filter(([, m]) => !isSketched(m))
    .map(([name]) => name);
}

/** The count measure the newer-events rule reads (the first count measure), or null. */
function countMeasure(view: ViewDef): string | null {
  return Object.entries(view.measures).find(([, m]) => countsEvents(m))?.[0] ?? null;
}

type Side = Map<number, Map<string, Record<string, number | null>>>;

function byBucket(rows: readonly BucketRow[], boundary: number): Side {
  const out: Side = new Map();
  for (const r of rows) {
    if (r.bucketStart >= boundary) continue;
    let groups = out.get(r.bucketStart);
    if (groups === undefined) out.set(r.bucketStart, (groups = new Map()));
    groups.set(JSON.stringify(r.dims), r.values);
  }
  return out;
}

/** A bucket's total over its groups: the stored cells combined by their monoids, then finalized (measure-kinds.ts). */
function totals(view: ViewDef, measures: readonly string[], rows: readonly BucketRow[] | undefined): Record<string, number | null> {
  const cells: Record<string, number | null> = {};
  for (const r of rows ?? []) combineCells(view, cells, rowCells(view, r));
  const values = finalizeCells(view, cells);
  return Object.fromEntries(measures.map((m) => [m, values[m] ?? null]));
}

function rowsByBucket(rows: readonly BucketRow[], boundary: number): Map<number, BucketRow[]> {
  const out = new Map<number, BucketRow[]>();
  for (const r of rows) {
    if (r.bucketStart >= boundary) continue;
    const list = out.get(r.bucketStart);
    if (list === undefined) out.set(r.bucketStart, [r]);
    else list.push(r);
  }
  return out;
}

function differingGroups(
  measures: readonly string[],
  a: Map<string, Record<string, number | null>> | undefined,
  b: Map<string, Record<string, number | null>> | undefined,
): number {
  const keys = new Set([...(a?.keys() ?? []), ...(b?.keys() ?? [])]);
  let n = 0;
  for (const k of keys) {
    const x = a?.get(k);
    const y = b?.get(k);
    if (measures.some((m) => (x?.[m] ?? null) !== (y?.[m] ?? null))) n++;
  }
  return n;
}

export function compareKappa(input: CompareInput): KappaComparison {
  const { view, boundary } = input;
  const measures = exactMeasures(view);
  const count = countMeasure(view);
  const batch = byBucket(input.batchRows, boundary);
  const kappa = byBucket(input.kappaRows, boundary);
  const batchRows = rowsByBucket(input.batchRows, boundary);
  const kappaRows = rowsByBucket(input.kappaRows, boundary);
  const starts = new Set([...batch.keys(), ...kappa.keys()]);
  for (const s of input.lost.keys()) if (s < boundary) starts.add(s);
  const counts: Record<KappaBucketStatus, number> = { equal: 0, different: 0, not_rebuildable: 0, newer_in_log: 0 };
  const all: KappaBucket[] = [];
  for (const start of starts) {
    const b = batch.get(start);
    const k = kappa.get(start);
    const groupsDiffering = differingGroups(measures, b, k);
    const lostEvents = input.lost.get(start) ?? 0;
    const newerEvents = input.newer.get(start) ?? 0;
    const bt = totals(view, measures, batchRows.get(start));
    const kt = totals(view, measures, kappaRows.get(start));
    let status: KappaBucketStatus;
    if (lostEvents > 0) status = 'not_rebuildable';
    else if (groupsDiffering === 0) status = 'equal';
    else if (newerEvents > 0 && count !== null && (kt[count] ?? 0) - (bt[count] ?? 0) === newerEvents) status = 'newer_in_log';
    else status = 'different';
    counts[status]++;
    all.push({ start, status, batch: bt, kappa: kt, groupsDiffering, lostEvents, newerEvents });
  }
  all.sort((x, y) => Number(x.status === 'equal') - Number(y.status === 'equal') || y.start - x.start);
  const buckets = all.slice(0, input.maxBuckets);
  return { view: view.name, granularity: input.granularity, boundary, counts, buckets, omitted: all.length - buckets.length };
}
