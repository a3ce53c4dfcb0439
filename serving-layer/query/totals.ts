/**
 * Totals over a range (docs/design-decisions.md, "Serving layer"): counts and sums add exactly
 * across buckets from both layers. A distinct total is a union, not a sum (issue 16): where one
 * stored value answers (a group with one batch bucket row, all dimensions kept) it is that exact
 * count; otherwise it is the union of the group's sketches over every bucket of the range, the
 * batch run's and the speed layer's alike (query/uniques.ts), flagged approximate with Redis's
 * standard error. It is unavailable only when a batch run that keeps no sketches would have to be
 * unioned.
 *
 * The answer is folded from two parts (query/totals-parts.ts) read through a TotalsReader: here
 * directly (the oracle), in cache/totals-cache.ts through the serving cache, which keeps the batch
 * part per run and shares the speed reads, so both give the same bytes.
 */
import type { BatchSnapshot, BucketRow, SeriesQuery, SketchRow, SpeedStatus } from '../../shared/ports.js';
import { incompleteBuckets, type IncompleteBucket } from '../../shared/merge.js';
import type { ViewDef } from '../../shared/views/definition.js';
import type { QueryContext } from './context.js';
import { readNow, type SpeedRead } from './drift-reader.js';
import type { ResolvedQuery } from './params.js';
import { describeSources, queryEcho } from './series.js';
import { pickMeasures } from './rollup.js';
import { checkAnswerRows } from './limits.js';
import { withSnapshot } from './snapshot.js';
import { HLL_STANDARD_ERROR, distinctAsked, keptKey, noSketchesReason, unionSketches, type UnionSet } from './uniques.js';
import { batchTotals, batchUnions, copyGroups, foldRows, totalsPlan, type BatchTotals, type TotalsPlan } from './totals-parts.js';
import type { TotalsAnswer } from '../http/schemas/totals.js';

/** How a totals answer reads its parts: directly, or through the serving cache. */
export interface TotalsReader {
  status(): Promise<SpeedRead<SpeedStatus>>;
  speedRows(q: SeriesQuery): Promise<SpeedRead<BucketRow[]>>;
  /** the speed layer's sketches of the distinct measures over q's range */
  speedSketches(q: SeriesQuery, measures: readonly string[]): Promise<SpeedRead<Map<string, SketchRow[]>>>;
  batch(snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery, plan: TotalsPlan): BatchTotals;
}

export function directTotalsReader(ctx: QueryContext): TotalsReader {
  const read = readNow(ctx);
  return {
    status: () => read(() => ctx.speed.status()),
    speedRows: (q) => read(() => ctx.speed.series(q)),
    speedSketches: (q, measures) =>
      read(async () => new Map(await Promise.all(measures.map(async (m) => [m, await ctx.speed.distinctSketches(q, m)] as const)))),
    batch: batchTotals,
  };
}

export interface TotalsReads {
  plan: TotalsPlan;
  /**
   * The content reads the answer is built from: the speed rows and sketches (the cache reuses an
   * answer while they are the same). The status read is not among them: the answer uses only its
   * `coveredSince` (below) and, through `incomplete()`, when it was read. Its other fields (each
   * report's age, the event-time lag) change with every read, and would rebuild the answer on every
   * refresh of an idle speed layer.
   */
  reads: readonly SpeedRead<unknown>[];
  /** the status's coverage, the one part of it the answer shows */
  coveredSince: number | null;
  /** the incomplete buckets these reads give (totalsIncomplete) */
  incomplete(): IncompleteBucket[];
  compute(): Promise<{ answer: TotalsAnswer; incompleteCount: number }>;
}

/** Reads both parts of a totals answer; `compute` folds them. */
export async function totalsReads(ctx: QueryContext, snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery, reader: TotalsReader): Promise<TotalsReads> {
  const plan = totalsPlan(ctx, snap, view, rq);
  const distinct = distinctAsked(view, rq);
  const speedQuery = plan.speedRange ? { ...plan.base, ...plan.speedRange } : null;
  // Sketches are read with the rows whenever a distinct measure is asked over speed buckets: one
  // shared read, whether or not a group turns out to combine stored rows.
  const sketchQuery =
    speedQuery && distinct.length > 0 ? { view: view.name, granularity: rq.granularity, filter: rq.filter, maxRows: plan.max, ...plan.speedRange! } : null;
  const [status, speed, sketches] = await Promise.all([
    reader.status(),
    speedQuery ? reader.speedRows(speedQuery) : Promise.resolve(null),
    sketchQuery ? reader.speedSketches(sketchQuery, distinct) : Promise.resolve(null),
  ]);
  const batch = plan.run && plan.batchRange ? reader.batch(snap, view, rq, plan) : null;
  checkAnswerRows((batch?.rows ?? 0) + (speed?.value.length ?? 0), plan.max);
  const reads = [...(speed ? [speed] : []), ...(sketches ? [sketches] : [])];
  return {
    plan,
    reads,
    coveredSince: status.value.coveredSince,
    incomplete: () => totalsIncomplete(ctx, rq, plan, status, speed),
    compute: () => fold(ctx, snap, view, rq, plan, { batch, status, speed, sketches }),
  };
}

/**
 * The range's incomplete buckets: the only part of a totals answer that depends on when the speed
 * layer was read (a bucket past the speed retention), not only on what was read. The cache checks
 * it before it reuses an answer built from reads with the same content (cache/totals-cache.ts).
 */
export function totalsIncomplete(
  ctx: QueryContext,
  rq: ResolvedQuery,
  plan: TotalsPlan,
  status: SpeedRead<SpeedStatus>,
  speed: SpeedRead<unknown> | null,
): IncompleteBucket[] {
  // The answer is as of the older of its reads: the speed layer was read no earlier than that.
  const readAt = Math.min(status.readAt, speed?.readAt ?? status.readAt);
  return incompleteBuckets(rq.buckets, {
    boundary: plan.boundary,
    coveredSince: status.value.coveredSince,
    g: rq.granularity,
    speedRetentionMs: ctx.speed.retentionMs(rq.granularity),
    now: readAt,
  });
}

interface Parts {
  batch: BatchTotals | null;
  status: SpeedRead<SpeedStatus>;
  speed: SpeedRead<BucketRow[]> | null;
  sketches: SpeedRead<Map<string, SketchRow[]>> | null;
}

async function fold(
  ctx: QueryContext,
  snap: BatchSnapshot,
  view: ViewDef,
  rq: ResolvedQuery,
  plan: TotalsPlan,
  p: Parts,
): Promise<{ answer: TotalsAnswer; incompleteCount: number }> {
  const { sourceOf } = plan;
  const groups = p.batch ? copyGroups(p.batch.groups) : new Map();
  foldRows(
    view,
    rq,
    groups,
    (p.speed?.value ?? []).filter((r) => sourceOf(r.bucketStart) === 'speed'),
    false,
  );
  const estimated = new Map<string, string[]>();
  const unavailable: Record<string, string> = {};
  const approximate: string[] = [];
  for (const measure of distinctAsked(view, rq)) {
    // One stored row: its own value (exact from the batch run; the speed layer's PFCOUNT).
    const unions = [...groups].filter(([, g]) => g.parts > 1);
    const empty: UnionSet = { unions: new Map(), batchMissing: false };
    const batchSet = p.batch && unions.some(([, g]) => g.batch) ? await batchUnions(ctx, snap, view, rq, plan, p.batch, measure) : empty;
    const speedSet = unions.some(([, g]) => g.speed) ? await speedUnions(ctx, snap, view, rq, plan, p, measure) : empty;
    for (const [key, g] of groups) {
      const mark = () => estimated.set(key, [...(estimated.get(key) ?? []), measure]);
      if (g.parts === 1) {
        if (g.speed) mark();
        continue;
      }
      if (batchSet.batchMissing && g.batch) {
        g.values[measure] = null;
        unavailable[measure] = noSketchesReason(plan.run);
        continue;
      }
      const fromBatch = g.batch ? batchSet.unions.get(key) : undefined;
      const fromSpeed = g.speed ? speedSet.unions.get(key) : undefined;
      // The batch union may be the cache's, kept per run: estimated with the speed one, never changed.
      g.values[measure] = fromBatch && fromSpeed ? fromBatch.estimateWith(fromSpeed) : ((fromBatch ?? fromSpeed)?.estimate() ?? 0);
      mark();
    }
    if ([...estimated.values()].some((ms) => ms.includes(measure))) approximate.push(measure);
  }
  const first = Object.keys(view.measures)[0]!;
  let list = [...groups].sort(([, a], [, b]) => (b.values[first] ?? -Infinity) - (a.values[first] ?? -Infinity));
  if (rq.limit !== null) list = list.slice(0, rq.limit);
  const incomplete = totalsIncomplete(ctx, rq, plan, p.status, p.speed);
  const warnings: string[] = [];
  if (incomplete.length) warnings.push(`${incomplete.length} bucket(s) in the range are incomplete, so these totals are too (see "incomplete")`);
  const answer: TotalsAnswer = {
    ...queryEcho(view, rq),
    batch: plan.run ? { runId: plan.run.runId, watermark: plan.run.watermark, boundary: plan.boundary } : null,
    speed: { coveredSince: p.status.value.coveredSince },
    sources: {
      batchBuckets: rq.buckets.filter((b) => sourceOf(b) === 'batch').length,
      speedBuckets: rq.buckets.filter((b) => sourceOf(b) === 'speed').length,
    },
    provenance: describeSources(plan),
    approximate,
    standardError: Object.fromEntries(approximate.map((name) => [name, HLL_STANDARD_ERROR])),
    unavailable,
    incomplete,
    warnings,
    totals: list.map(([key, g]) => ({
      dims: g.dims,
      values: pickMeasures(g.values, rq.measures),
      buckets: g.earlierBuckets + g.buckets.size,
      ...(estimated.has(key) ? { approximate: estimated.get(key)! } : {}),
    })),
  };
  return { answer, incompleteCount: incomplete.length };
}

/** Every speed group's sketches of one measure unioned, from the sketches read with the rows. */
function speedUnions(ctx: QueryContext, snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery, plan: TotalsPlan, p: Parts, measure: string): Promise<UnionSet> {
  return unionSketches(ctx, snap, view, rq, {
    measure,
    batchRange: null,
    speedRange: plan.speedRange,
    sourceOf: plan.sourceOf,
    needBatch: false,
    needSpeed: true,
    keyOf: (_b, dims) => keptKey(view, dims, rq.groupBy),
    speedSketches: () => Promise.resolve(p.sketches?.value.get(measure) ?? []),
  });
}

export async function totalsAnswer(ctx: QueryContext, view: ViewDef, rq: ResolvedQuery): Promise<{ answer: TotalsAnswer; incompleteCount: number }> {
  return withSnapshot(ctx.batch, 1, async (snap) => (await totalsReads(ctx, snap, view, rq, directTotalsReader(ctx))).compute());
}
