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
import { rollUp, unavailableDistinct, combineValues, pickMeasures, type Group, type Values } from './rollup.js';
import { withSnapshot } from './snapshot.js';
import type { SeriesAnswer } from '../http/schemas/series.js';

export interface MergedRows {
  rows: BucketRow[];
  sourceOf: (bucketStart: number) => Source;
  run: BatchRunInfo | null;
  boundary: number | null;
  speed: SpeedStatus;
  incomplete: IncompleteBucket[];
}

function runRange(buckets: readonly number[], len: number): { from: number; to: number } | null {
  return buckets.length === 0 ? null : { from: buckets[0]!, to: buckets[buckets.length - 1]! + len };
}

/** Reads each bucket from the layer that owns it; W and every batch row from the snapshot's one run. */
export async function mergedRows(ctx: QueryContext, snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery): Promise<MergedRows> {
  const g = rq.granularity;
  const len = granularityMs(g);
  const run = snap.run;
  const boundary = servingBoundary(run?.watermark ?? null, g);
  const sourceOf = (b: number) => chooseSource(b, boundary);
  const batchRange = runRange(rq.buckets.filter((b) => sourceOf(b) === 'batch'), len);
  const speedRange = runRange(rq.buckets.filter((b) => sourceOf(b) === 'speed'), len);
  const base = { view: view.name, granularity: g, filter: rq.filter, keep: rq.groupBy } satisfies Omit<SeriesQuery, 'from' | 'to'>;
  const [batchRows, speedRows, speed] = await Promise.all([
    batchRange ? snap.series({ ...base, ...batchRange }) : [],
    speedRange ? ctx.speed.series({ ...base, ...speedRange }) : [],
    ctx.speed.status(),
  ]);
  const rows = [...batchRows.filter((r) => sourceOf(r.bucketStart) === 'batch'), ...speedRows.filter((r) => sourceOf(r.bucketStart) === 'speed')];
  const incomplete = incompleteBuckets(rq.buckets, {
    boundary,
    coveredSince: speed.coveredSince,
    g,
    speedRetentionMs: ctx.speed.retentionMs(g),
    now: ctx.now(),
  });
  return { rows, sourceOf, run, boundary, speed, incomplete };
}

/** Keeps the top `limit` groups ranked by the view's first measure summed over the range. */
function topGroups(view: ViewDef, byBucket: Map<number, Group[]>, limit: number | null): Set<string> | null {
  if (limit === null) return null;
  const first = Object.keys(view.measures)[0]!;
  const totals = new Map<string, Values>();
  for (const groups of byBucket.values()) {
    for (const g of groups) {
      const key = JSON.stringify(g.dims);
      const t = totals.get(key);
      if (!t) totals.set(key, { ...g.values });
      else combineValues(view, t, g.values);
    }
  }
  const ranked = [...totals].sort((a, b) => (b[1][first] ?? -Infinity) - (a[1][first] ?? -Infinity));
  return new Set(ranked.slice(0, limit).map(([k]) => k));
}

export function describeSources(m: MergedRows): string {
  const batch = m.run
    ? `buckets before ${m.boundary === null ? 'the boundary' : new Date(m.boundary).toISOString()} come from batch run ${m.run.runId} (SQLite, recomputed from the master dataset; watermark ${new Date(m.run.watermark).toISOString()})`
    : 'no batch run has been published yet, so every bucket comes from the speed layer';
  return `${batch}; later buckets come from the speed layer (Redis, realtime, approximate distinct counts).`;
}

export async function seriesAnswer(ctx: QueryContext, view: ViewDef, rq: ResolvedQuery): Promise<{ answer: SeriesAnswer; incompleteCount: number }> {
  const m = await withSnapshot(ctx.batch, 1, (snap) => mergedRows(ctx, snap, view, rq));
  const byBucket = rollUp(view, m.rows, rq.groupBy);
  const keep = topGroups(view, byBucket, rq.limit);
  const incompleteByBucket = new Map(m.incomplete.map((i) => [i.bucketStart, i.reason]));
  const len = granularityMs(rq.granularity);
  const buckets = rq.buckets.map((start) => ({
    start,
    end: start + len,
    source: m.sourceOf(start),
    complete: !incompleteByBucket.has(start),
    ...(incompleteByBucket.has(start) ? { incompleteReason: incompleteByBucket.get(start) } : {}),
    groups: (byBucket.get(start) ?? []).filter((g) => !keep || keep.has(JSON.stringify(g.dims))).map((g) => ({ dims: g.dims, values: pickMeasures(g.values, rq.measures) })),
  }));
  // Only the measures asked for: a warning about a measure the user does not look at is noise.
  const unavailable = unavailableDistinct(view, [...byBucket.values()].flat()).filter((m) => rq.measures.includes(m));
  const warnings: string[] = [];
  if (m.incomplete.length > 0) {
    warnings.push(`${m.incomplete.length} bucket(s) are incomplete: ${[...new Set(m.incomplete.map((i) => i.reason))].join(', ')} (see "incomplete")`);
  }
  const gaps = m.run?.completeness?.gaps ?? [];
  if (gaps.length > 0) {
    const lost = gaps.reduce((n, g) => n + (g.toOffset - g.fromOffset + 1), 0);
    const where = gaps.slice(0, 5).map((g) => `partition ${g.partition} offsets ${g.fromOffset}-${g.toOffset}`).join(', ');
    warnings.push(`batch run ${m.run?.runId} lacks ${lost} record(s) Kafka deleted before the archiver read them (${where}${gaps.length > 5 ? ', ...' : ''}): batch buckets of the time they arrived may be short; the run record lists them (completeness.gaps)`);
  }
  if (unavailable.length > 0) {
    warnings.push(`distinct measure(s) ${unavailable.join(', ')} are null where several dimension groups were combined: an exact distinct count cannot be added up`);
  }
  return {
    answer: {
      view: view.name,
      granularity: rq.granularity,
      from: rq.from,
      to: rq.to,
      groupBy: rq.groupBy,
      filter: rq.filter,
      measures: Object.fromEntries(rq.measures.map((m) => [m, view.measures[m]!])),
      batch: m.run ? { runId: m.run.runId, watermark: m.run.watermark, boundary: m.boundary, finishedAt: m.run.finishedAt } : null,
      speed: { coveredSince: m.speed.coveredSince, partitions: m.speed.partitions },
      provenance: describeSources(m),
      incomplete: m.incomplete,
      unavailable,
      warnings,
      buckets,
    },
    incompleteCount: m.incomplete.length,
  };
}
