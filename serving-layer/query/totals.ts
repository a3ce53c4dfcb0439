/**
 * Totals over a range (docs/design-decisions.md §7): counts and sums add exactly across buckets
 * from both layers. A distinct total is a union, not a sum (issue 16): where one stored value
 * answers (a group with one batch bucket row, all dimensions kept) it is that exact count;
 * otherwise it is the union of the group's sketches over every bucket of the range, the batch
 * run's and the speed layer's alike (query/uniques.ts), flagged approximate with Redis's standard
 * error. It is unavailable only when a batch run that keeps no sketches would have to be unioned.
 */
import type { ViewDef } from '../../shared/views/definition.js';
import { granularityMs } from '../../shared/time.js';
import type { QueryContext } from './context.js';
import type { ResolvedQuery } from './params.js';
import { mergedRows, describeSources, queryEcho, runRange } from './series.js';
import { combineValues, dimsRecord, pickMeasures, type Values } from './rollup.js';
import { withSnapshot } from './snapshot.js';
import { HLL_STANDARD_ERROR, distinctAsked, keptKey, noSketchesReason, unionDistinct } from './uniques.js';
import type { TotalsAnswer } from '../http/schemas/totals.js';

interface TotalGroup {
  dims: Record<string, string | null>;
  values: Values;
  buckets: Set<number>;
  /** stored rows combined */
  parts: number;
  /** whether rows came from the batch run / the speed layer */
  batch: boolean;
  speed: boolean;
  /** distinct measures whose value here is an estimate */
  estimated: string[];
}

export async function totalsAnswer(ctx: QueryContext, view: ViewDef, rq: ResolvedQuery): Promise<{ answer: TotalsAnswer; incompleteCount: number }> {
  return withSnapshot(ctx.batch, 1, async (snap) => {
    const m = await mergedRows(ctx, snap, view, rq);
    const groups = new Map<string, TotalGroup>();
    for (const row of m.rows) {
      const dims = dimsRecord(view, row.dims, rq.groupBy);
      const key = keptKey(view, row.dims, rq.groupBy);
      const fromBatch = m.sourceOf(row.bucketStart) === 'batch';
      const g = groups.get(key);
      if (!g) groups.set(key, { dims, values: { ...row.values }, buckets: new Set([row.bucketStart]), parts: row.parts ?? 1, batch: fromBatch, speed: !fromBatch, estimated: [] });
      else {
        combineValues(view, g.values, row.values);
        g.buckets.add(row.bucketStart);
        g.parts += row.parts ?? 1;
        if (fromBatch) g.batch = true;
        else g.speed = true;
      }
    }
    const unavailable: Record<string, string> = {};
    const approximate: string[] = [];
    const len = granularityMs(rq.granularity);
    for (const measure of distinctAsked(view, rq)) {
      // One stored row: its own value (exact from the batch run; the speed layer's PFCOUNT).
      const unions = [...groups].filter(([, g]) => g.parts > 1);
      const wanted = new Set(unions.map(([k]) => k));
      const result =
        unions.length === 0
          ? null
          : await unionDistinct(ctx, snap, view, rq, {
              measure,
              batchRange: runRange(rq.buckets.filter((b) => m.sourceOf(b) === 'batch'), len),
              speedRange: runRange(rq.buckets.filter((b) => m.sourceOf(b) === 'speed'), len),
              sourceOf: m.sourceOf,
              needBatch: unions.some(([, g]) => g.batch),
              needSpeed: unions.some(([, g]) => g.speed),
              keyOf: (_b, dims) => {
                const k = keptKey(view, dims, rq.groupBy);
                return wanted.has(k) ? k : null;
              },
            });
      for (const [key, g] of groups) {
        if (g.parts === 1) {
          if (g.speed) g.estimated.push(measure);
          continue;
        }
        if (result?.batchMissing === true && g.batch) {
          g.values[measure] = null;
          unavailable[measure] = noSketchesReason(m.run);
          continue;
        }
        g.values[measure] = result?.estimates.get(key) ?? 0;
        g.estimated.push(measure);
      }
      if ([...groups.values()].some((g) => g.estimated.includes(measure))) approximate.push(measure);
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
        standardError: Object.fromEntries(approximate.map((name) => [name, HLL_STANDARD_ERROR])),
        unavailable,
        incomplete: m.incomplete,
        warnings,
        totals: list.map((g) => ({
          dims: g.dims,
          values: pickMeasures(g.values, rq.measures),
          buckets: g.buckets.size,
          ...(g.estimated.length > 0 ? { approximate: g.estimated } : {}),
        })),
      },
      incompleteCount: m.incomplete.length,
    };
  });
}
