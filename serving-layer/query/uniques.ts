/**
 * Distinct counts that combine stored groups (issue 16; docs/design-decisions.md, "Uniques"): a
 * total over several buckets, or a group that rolls several dimension values up, is the union of
 * the groups' sketches, never a sum of exact counts (a visitor may be in several). The batch run
 * keeps one HyperLogLog per stored group beside its exact count, the speed layer one per group in
 * Redis; both have Redis's registers, so the union is the register-wise maximum (PFMERGE), taken
 * here (shared/hll/sketch.ts) and estimated with Redis's estimator: an estimate with Redis's
 * standard error, about 0.81%. Which layer a bucket came from does not matter; only a batch run
 * that keeps no sketches (LAMBDA_BATCH_SKETCHES=false, or written before them) leaves a union over
 * its buckets unavailable.
 */
import { sketchedIn } from '../../shared/aggregate/measure-kinds.js';
import type { Source } from '../../shared/merge.js';
import type { BatchRunInfo, BatchSnapshot, SeriesQuery, SketchRow } from '../../shared/ports.js';
import { HLL_STANDARD_ERROR, SketchUnion } from '../../shared/hll/sketch.js';
import type { ViewDef } from '../../shared/views/definition.js';
import type { QueryContext } from './context.js';
import type { ResolvedQuery } from './params.js';
import { checkAnswerRows, maxAnswerRows } from './limits.js';
import type { Group } from './rollup.js';

export { HLL_STANDARD_ERROR };

/** The distinct measures among those asked for, in the view's order. */
export function distinctAsked(view: ViewDef, rq: ResolvedQuery): string[] {
  return rq.measures.filter((m) => sketchedIn(view, m));
}

/** Key of a stored group's dims reduced to `groupBy` (the key rollUp and the totals group by). */
export function keptKey(view: ViewDef, dims: readonly (string | null)[], groupBy: readonly string[]): string {
  return JSON.stringify(groupBy.map((d) => dims[view.dimensions.indexOf(d)] ?? null));
}

/** Why a union over batch buckets has no answer: the run keeps no sketches. */
export function noSketchesReason(run: BatchRunInfo | null): string {
  return `batch run ${run?.runId ?? '(none)'} keeps no HyperLogLog sketches (written with LAMBDA_BATCH_SKETCHES=false, or by a version before them), so distinct counts that combine its buckets or groups cannot be unioned; exact counts of different buckets or groups cannot be added (a visitor may be in several)`;
}

export interface UnionRequest {
  measure: string;
  /** the ranges of the batch-served and the speed-served buckets (null: none of that layer) */
  batchRange: { from: number; to: number } | null;
  speedRange: { from: number; to: number } | null;
  sourceOf: (bucketStart: number) => Source;
  /** whether any wanted union includes batch (speed) buckets: only those layers are read */
  needBatch: boolean;
  needSpeed: boolean;
  /** the union a stored group's sketch belongs to, or null when no wanted union needs it */
  keyOf: (bucketStart: number, dims: readonly (string | null)[]) => string | null;
  /** reads the speed layer's sketches of the range (default: ctx.speed.distinctSketches); the serving cache shares one read */
  speedSketches?: (q: SeriesQuery) => Promise<SketchRow[]>;
}

export interface UnionResult {
  /** union key -> Redis's estimate of the union's cardinality (absent: no member anywhere, 0) */
  estimates: Map<string, number>;
  /** the batch run keeps no sketches: unions over batch buckets have no answer */
  batchMissing: boolean;
}

/** The unions themselves, for a caller that unions them further (the totals' batch part, kept per run). */
export interface UnionSet {
  unions: Map<string, SketchUnion>;
  batchMissing: boolean;
}

/**
 * Reads the sketches of one distinct measure from the layer each bucket comes from (the batch
 * snapshot's run, the speed layer) and unions them per key.
 */
export async function unionDistinct(ctx: QueryContext, snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery, u: UnionRequest): Promise<UnionResult> {
  const { unions, batchMissing } = await unionSketches(ctx, snap, view, rq, u);
  return { estimates: new Map([...unions].map(([k, union]) => [k, union.estimate()])), batchMissing };
}

/** unionDistinct's unions, not yet estimated. */
export async function unionSketches(ctx: QueryContext, snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery, u: UnionRequest): Promise<UnionSet> {
  const max = maxAnswerRows(ctx);
  const base = { view: view.name, granularity: rq.granularity, filter: rq.filter, maxRows: max } satisfies Omit<SeriesQuery, 'from' | 'to'>;
  const batch = u.needBatch && u.batchRange ? snap.sketches({ ...base, ...u.batchRange }, u.measure) : [];
  const readSpeed = u.speedSketches ?? ((q: SeriesQuery) => ctx.speed.distinctSketches(q, u.measure));
  const speed = u.needSpeed && u.speedRange ? await readSpeed({ ...base, ...u.speedRange }) : [];
  checkAnswerRows((batch?.length ?? 0) + speed.length, max);
  const unions = new Map<string, SketchUnion>();
  const add = (rows: readonly SketchRow[], source: Source) => {
    for (const r of rows) {
      if (u.sourceOf(r.bucketStart) !== source) continue;
      const key = u.keyOf(r.bucketStart, r.dims);
      if (key === null) continue;
      let union = unions.get(key);
      if (union === undefined) unions.set(key, (union = new SketchUnion()));
      union.addRedis(r.sketch);
    }
  };
  if (batch !== null) add(batch, 'batch');
  add(speed, 'speed');
  return { unions, batchMissing: batch === null };
}

/** What a series says about its distinct values (query/series.ts seriesEnvelope). */
export interface DistinctFacts {
  /** distinct measures with values that are HyperLogLog estimates: speed buckets, and groups that combine stored groups */
  approximate: string[];
  /** distinct measures left null where groups combine, because the batch run keeps no sketches */
  unavailable: string[];
}

/**
 * A series' groups that combine several stored groups (`parts` > 1, from `groupBy`): their
 * distinct values become the union of the combined groups' sketches in that bucket, in place.
 * `byBucket` may hold buckets of one layer only (the serving cache fills its batch and its speed
 * part apart): `ranges` says which layers' buckets it holds.
 */
export async function fillCombinedDistinct(
  ctx: QueryContext,
  snap: BatchSnapshot,
  view: ViewDef,
  rq: ResolvedQuery,
  byBucket: ReadonlyMap<number, readonly Group[]>,
  sourceOf: (bucketStart: number) => Source,
  ranges: { batchRange: { from: number; to: number } | null; speedRange: { from: number; to: number } | null },
  speedSketches?: (q: SeriesQuery, measure: string) => Promise<SketchRow[]>,
): Promise<DistinctFacts> {
  const facts: DistinctFacts = { approximate: [], unavailable: [] };
  const groupKey = (b: number, g: Group) => `${b}|${JSON.stringify(rq.groupBy.map((d) => g.dims[d] ?? null))}`;
  const speedServed = [...byBucket].some(([b, gs]) => sourceOf(b) === 'speed' && gs.length > 0);
  for (const measure of distinctAsked(view, rq)) {
    const combined: [number, Group][] = [];
    for (const [b, gs] of byBucket) for (const g of gs) if (g.parts > 1) combined.push([b, g]);
    let estimated = false;
    if (combined.length > 0) {
      const wanted = new Set(combined.map(([b, g]) => groupKey(b, g)));
      const result = await unionDistinct(ctx, snap, view, rq, {
        measure,
        ...ranges,
        sourceOf,
        needBatch: combined.some(([b]) => sourceOf(b) === 'batch'),
        needSpeed: combined.some(([b]) => sourceOf(b) === 'speed'),
        keyOf: (b, dims) => {
          const k = `${b}|${keptKey(view, dims, rq.groupBy)}`;
          return wanted.has(k) ? k : null;
        },
        ...(speedSketches ? { speedSketches: (q: SeriesQuery) => speedSketches(q, measure) } : {}),
      });
      for (const [b, g] of combined) {
        if (result.batchMissing && sourceOf(b) === 'batch') {
          g.values[measure] = null;
          if (!facts.unavailable.includes(measure)) facts.unavailable.push(measure);
          continue;
        }
        g.values[measure] = result.estimates.get(groupKey(b, g)) ?? 0;
        estimated = true;
      }
    }
    if (estimated || speedServed) facts.approximate.push(measure);
  }
  return facts;
}
