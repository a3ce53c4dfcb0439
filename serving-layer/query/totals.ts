/**
 * Totals over a range (docs/design-decisions.md §7): counts and sums add exactly across buckets from both layers.
 * A distinct total is a union, not a sum: it is answered only where sketches can be unioned (the
 * speed layer's HyperLogLogs, flagged approximate) or when the range is a single exact bucket;
 * otherwise it is marked unavailable with the reason, never guessed.
 */
import { keepsEveryDimension, type ViewDef } from '../../shared/views/definition.js';
import { granularityMs } from '../../shared/time.js';
import type { QueryContext } from './context.js';
import type { ResolvedQuery } from './params.js';
import { mergedRows, describeSources, queryEcho } from './series.js';
import { combineValues, dimsRecord, pickMeasures, type Values } from './rollup.js';
import { withSnapshot } from './snapshot.js';
import type { TotalsAnswer } from '../http/schemas/totals.js';

export async function totalsAnswer(ctx: QueryContext, view: ViewDef, rq: ResolvedQuery): Promise<{ answer: TotalsAnswer; incompleteCount: number }> {
  const m = await withSnapshot(ctx.batch, 1, (snap) => mergedRows(ctx, snap, view, rq));
  const groups = new Map<string, { dims: Record<string, string | null>; values: Values; buckets: Set<number>; parts: number }>();
  for (const row of m.rows) {
    const dims = dimsRecord(view, row.dims, rq.groupBy);
    const key = JSON.stringify(rq.groupBy.map((d) => dims[d] ?? null));
    const g = groups.get(key);
    if (!g) groups.set(key, { dims, values: { ...row.values }, buckets: new Set([row.bucketStart]), parts: row.parts ?? 1 });
    else {
      combineValues(view, g.values, row.values);
      g.buckets.add(row.bucketStart);
      g.parts += row.parts ?? 1;
    }
  }
  const distinctMeasures = rq.measures.filter((n) => view.measures[n]?.type === 'distinct');
  const allSpeed = rq.buckets.every((b) => m.sourceOf(b) === 'speed');
  const fullDims = keepsEveryDimension(view, rq.groupBy);
  const unavailable: Record<string, string> = {};
  const approximate: string[] = [];
  const len = granularityMs(rq.granularity);
  for (const measure of distinctMeasures) {
    const exactSingle = [...groups.values()].every((g) => g.parts === 1);
    if (exactSingle) continue; // each total is one exact bucket value: nothing was combined
    if (allSpeed && fullDims) {
      const range = { view: view.name, granularity: rq.granularity, from: rq.buckets[0]!, to: rq.buckets[rq.buckets.length - 1]! + len, filter: rq.filter };
      const estimates = new Map((await ctx.speed.distinctTotals(range, measure)).map((e) => [JSON.stringify(e.dims), e.estimate]));
      for (const g of groups.values()) g.values[measure] = estimates.get(JSON.stringify(view.dimensions.map((d) => g.dims[d] ?? null))) ?? null;
      approximate.push(measure);
      continue;
    }
    for (const g of groups.values()) g.values[measure] = null;
    unavailable[measure] = allSpeed
      ? 'a distinct total needs one sketch per group: group by every dimension of the view'
      : 'the range includes batch-served buckets, and the batch layer keeps exact per-bucket distinct counts without HyperLogLog sketches yet; exact counts of different buckets cannot be added (a visitor may be in several)';
  }
  const first = Object.keys(view.measures)[0]!;
  let list = [...groups.values()].sort((a, b) => (b.values[first] ?? -Infinity) - (a.values[first] ?? -Infinity));
  if (rq.limit !== null) list = list.slice(0, rq.limit);
  const warnings: string[] = [];
  if (m.incomplete.length) warnings.push(`${m.incomplete.length} bucket(s) in the range are incomplete, so these totals are too (see "incomplete")`);
  return {
    answer: {
      ...queryEcho(view, rq),
      batch: m.run ? { runId: m.run.runId, watermark: m.run.watermark, boundary: m.boundary } : null,
      speed: { coveredSince: m.speed.coveredSince },
      sources: {
        batchBuckets: rq.buckets.filter((b) => m.sourceOf(b) === 'batch').length,
        speedBuckets: rq.buckets.filter((b) => m.sourceOf(b) === 'speed').length,
      },
      provenance: describeSources(m),
      approximate,
      unavailable,
      incomplete: m.incomplete,
      warnings,
      totals: list.map((g) => ({ dims: g.dims, values: pickMeasures(g.values, rq.measures), buckets: g.buckets.size })),
    },
    incompleteCount: m.incomplete.length,
  };
}
