/**
 * The merged series (docs/design-decisions.md §7): buckets before the boundary B_g = floor_g(W) come from the
 * published batch run, the rest from the speed layer. Every bucket says its source; the answer
 * carries W, the run id, the speed layer's coveredSince and lag, and names any bucket that
 * neither layer covers completely instead of returning a clean-looking wrong number.
 */
import { chooseSource, incompleteBuckets, servingBoundary, type IncompleteBucket, type Source } from '../../shared/merge.js';
import { granularityMs } from '../../shared/time.js';
import type { ViewDef } from '../../shared/views/definition.js';
import type { BucketRow, SeriesQuery, SpeedStatus, BatchRunInfo, BatchSnapshot } from '../../shared/ports.js';
import type { QueryContext } from './context.js';
import type { ResolvedQuery } from './params.js';
import { rollUp, combineValues, copyFolded, pickMeasures, type Folded, type Group } from './rollup.js';
import { fillCombinedDistinct, noSketchesReason, HLL_STANDARD_ERROR, type DistinctFacts } from './uniques.js';
import { withSnapshot } from './snapshot.js';
import { checkAnswerRows, maxAnswerRows } from './limits.js';
import type { SeriesAnswer } from '../http/schemas/series.js';

export interface MergedRows {
  rows: BucketRow[];
  sourceOf: (bucketStart: number) => Source;
  run: BatchRunInfo | null;
  boundary: number | null;
  speed: SpeedStatus;
  /** when the speed layer was read (epoch ms): the answer is as of this moment */
  readAt: number;
  incomplete: IncompleteBucket[];
}

export function runRange(buckets: readonly number[], len: number): { from: number; to: number } | null {
  return buckets.length === 0 ? null : { from: buckets[0]!, to: buckets[buckets.length - 1]! + len };
}

/** Reads each bucket from the layer that owns it; W and every batch row from the snapshot's one run. */
export async function mergedRows(ctx: QueryContext, snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery): Promise<MergedRows> {
  const g = rq.granularity;
  const len = granularityMs(g);
  const run = snap.run;
  const boundary = servingBoundary(run?.watermark ?? null, g);
  const sourceOf = (b: number) => chooseSource(b, boundary);
  const batchRange = runRange(
    rq.buckets.filter((b) => sourceOf(b) === 'batch'),
    len,
  );
  const speedRange = runRange(
    rq.buckets.filter((b) => sourceOf(b) === 'speed'),
    len,
  );
  const max = maxAnswerRows(ctx);
  const base = { view: view.name, granularity: g, filter: rq.filter, keep: rq.groupBy, maxRows: max } satisfies Omit<SeriesQuery, 'from' | 'to'>;
  const readAt = ctx.now();
  const [batchRows, speedRows, speed] = await Promise.all([
    batchRange ? snap.series({ ...base, ...batchRange }) : [],
    speedRange ? ctx.speed.series({ ...base, ...speedRange }) : [],
    ctx.speed.status(),
  ]);
  checkAnswerRows(batchRows.length + speedRows.length, max);
  const rows = [...batchRows.filter((r) => sourceOf(r.bucketStart) === 'batch'), ...speedRows.filter((r) => sourceOf(r.bucketStart) === 'speed')];
  const incomplete = incompleteBuckets(rq.buckets, {
    boundary,
    coveredSince: speed.coveredSince,
    g,
    speedRetentionMs: ctx.speed.retentionMs(g),
    now: readAt,
  });
  return { rows, sourceOf, run, boundary, speed, readAt, incomplete };
}

/**
 * Per group (keyed by its dims' JSON), the view's measures over the range, in order of first
 * appearance. Folding is associative (rollup.ts), so the totals of two disjoint sets of buckets
 * merge into the totals of their union (mergeTotals): the cache ranks from cached parts.
 */
export function groupTotals(view: ViewDef, byBucket: ReadonlyMap<number, readonly Group[]>): Map<string, Folded> {
  const totals = new Map<string, Folded>();
  for (const groups of byBucket.values()) {
    for (const g of groups) {
      const key = JSON.stringify(g.dims);
      const t = totals.get(key);
      if (!t) totals.set(key, copyFolded(g));
      else combineValues(view, t, g);
    }
  }
  return totals;
}

/** `later`'s totals folded into a copy of `first`'s: the totals of both sets of buckets. */
export function mergeTotals(view: ViewDef, first: ReadonlyMap<string, Folded>, later: ReadonlyMap<string, Folded>): Map<string, Folded> {
  const out = new Map<string, Folded>();
  for (const [k, v] of first) out.set(k, copyFolded(v));
  for (const [k, v] of later) {
    const t = out.get(k);
    if (!t) out.set(k, copyFolded(v));
    else combineValues(view, t, v);
  }
  return out;
}

/** The top `limit` groups ranked by the view's first measure summed over the range (null: keep all). */
export function topGroups(view: ViewDef, totals: ReadonlyMap<string, Folded>, limit: number | null): Set<string> | null {
  if (limit === null) return null;
  const first = Object.keys(view.measures)[0]!;
  const ranked = [...totals].sort((a, b) => (b[1].values[first] ?? -Infinity) - (a[1].values[first] ?? -Infinity));
  return new Set(ranked.slice(0, limit).map(([k]) => k));
}

export function describeSources(m: { run: BatchRunInfo | null; boundary: number | null }): string {
  const batch = m.run
    ? `buckets before ${m.boundary === null ? 'the boundary' : new Date(m.boundary).toISOString()} come from batch run ${m.run.runId} (SQLite, recomputed from the master dataset; watermark ${new Date(m.run.watermark).toISOString()})`
    : 'no batch run has been published yet, so every bucket comes from the speed layer';
  return `${batch}; later buckets come from the speed layer (Redis, realtime, approximate distinct counts).`;
}

/** What the answer was asked, as resolved (defaults applied): the first fields of series and totals. */
export function queryEcho(view: ViewDef, rq: ResolvedQuery) {
  return { view: view.name, granularity: rq.granularity, from: rq.from, to: rq.to, groupBy: rq.groupBy, filter: rq.filter };
}

/** One bucket of the answer; `keep` (from `limit`) drops the groups outside the top N. */
export function seriesBucket(
  rq: ResolvedQuery,
  start: number,
  source: Source,
  incompleteReason: IncompleteBucket['reason'] | undefined,
  groups: readonly Group[],
  keep: ReadonlySet<string> | null,
) {
  return {
    start,
    end: start + granularityMs(rq.granularity),
    source,
    complete: incompleteReason === undefined,
    ...(incompleteReason !== undefined ? { incompleteReason } : {}),
    groups: groups.filter((g) => !keep || keep.has(JSON.stringify(g.dims))).map((g) => ({ dims: g.dims, values: pickMeasures(g.values, rq.measures) })),
  };
}

export type SeriesBucket = ReturnType<typeof seriesBucket>;

/** What an answer says about where its numbers come from, besides the buckets. */
export interface SeriesFacts {
  run: BatchRunInfo | null;
  boundary: number | null;
  speed: SpeedStatus;
  readAt: number;
  incomplete: IncompleteBucket[];
  /** which distinct values are estimates, and which are null for want of batch sketches (query/uniques.ts) */
  distinct: DistinctFacts;
}

/**
 * The answer around its buckets. `buckets` is the last key on purpose: the cache serialises the
 * rest with an empty list and splices in bucket bytes it keeps (series-cache.ts), which gives
 * exactly the bytes JSON.stringify gives for the whole object.
 */
export function seriesEnvelope<B>(view: ViewDef, rq: ResolvedQuery, f: SeriesFacts, buckets: B[]) {
  // Only the measures asked for: a warning about a measure the user does not look at is noise.
  const unavailable = f.distinct.unavailable.filter((m) => rq.measures.includes(m));
  const approximate = f.distinct.approximate.filter((m) => rq.measures.includes(m));
  const warnings: string[] = [];
  if (f.incomplete.length > 0) {
    warnings.push(`${f.incomplete.length} bucket(s) are incomplete: ${[...new Set(f.incomplete.map((i) => i.reason))].join(', ')} (see "incomplete")`);
  }
  const gaps = f.run?.completeness?.gaps ?? [];
  if (gaps.length > 0) {
    const lost = gaps.reduce((n, g) => n + (g.toOffset - g.fromOffset + 1), 0);
    const where = gaps
      .slice(0, 5)
      .map((g) => `partition ${g.partition} offsets ${g.fromOffset}-${g.toOffset}`)
      .join(', ');
    warnings.push(
      `batch run ${f.run?.runId} lacks ${lost} record(s) Kafka deleted before the archiver read them (${where}${gaps.length > 5 ? ', ...' : ''}): batch buckets of the time they arrived may be short; the run record lists them (completeness.gaps)`,
    );
  }
  if (unavailable.length > 0) {
    warnings.push(
      `distinct measure(s) ${unavailable.join(', ')} are null where several dimension groups of batch buckets were combined: ${noSketchesReason(f.run)}`,
    );
  }
  return {
    ...queryEcho(view, rq),
    measures: Object.fromEntries(rq.measures.map((m) => [m, view.measures[m]!])),
    batch: f.run ? { runId: f.run.runId, watermark: f.run.watermark, boundary: f.boundary, finishedAt: f.run.finishedAt } : null,
    speed: { coveredSince: f.speed.coveredSince, partitions: f.speed.partitions, readAt: f.readAt },
    provenance: describeSources(f),
    incomplete: f.incomplete,
    unavailable,
    approximate,
    standardError: Object.fromEntries(approximate.map((name) => [name, HLL_STANDARD_ERROR])),
    warnings,
    buckets,
  };
}

/** The merged series computed from scratch: the oracle the cached path (series-cache.ts) must equal byte for byte. */
export async function seriesAnswer(ctx: QueryContext, view: ViewDef, rq: ResolvedQuery): Promise<{ answer: SeriesAnswer; incompleteCount: number }> {
  return withSnapshot(ctx.batch, 1, async (snap) => {
    const m = await mergedRows(ctx, snap, view, rq);
    const byBucket = rollUp(view, m.rows, rq.groupBy);
    // Groups that combine stored groups: their distinct values are unions of sketches (issue 16).
    const len = granularityMs(rq.granularity);
    const distinct = await fillCombinedDistinct(ctx, snap, view, rq, byBucket, m.sourceOf, {
      batchRange: runRange(
        rq.buckets.filter((b) => m.sourceOf(b) === 'batch'),
        len,
      ),
      speedRange: runRange(
        rq.buckets.filter((b) => m.sourceOf(b) === 'speed'),
        len,
      ),
    });
    const keep = topGroups(view, groupTotals(view, byBucket), rq.limit);
    const incompleteByBucket = new Map(m.incomplete.map((i) => [i.bucketStart, i.reason]));
    const buckets = rq.buckets.map((start) => seriesBucket(rq, start, m.sourceOf(start), incompleteByBucket.get(start), byBucket.get(start) ?? [], keep));
    return { answer: seriesEnvelope(view, rq, { ...m, distinct }, buckets), incompleteCount: m.incomplete.length };
  });
}
