/**
 * Batch-to-batch drift: how the answer's run differs from the kept run published before it, split
 * into late events absorbed into buckets the previous run already served and buckets newly
 * covered because W moved forward (docs/design-decisions.md, "Serving layer").
 */
import { countsEvents, exactDecimals } from '../../shared/aggregate/measure-kinds.js';
import { isLambdaError } from '../../shared/errors.js';
import { drift, servingBoundary } from '../../shared/merge.js';
import type { BatchRunInfo, BatchSnapshot, BucketRow } from '../../shared/ports.js';
import type { ViewDef } from '../../shared/views/definition.js';
import type { ResolvedQuery } from './params.js';
import { dimsRecord } from './rollup.js';
import { checkAnswerRows, MAX_ANSWER_ROWS } from './limits.js';
import type { BatchToBatch, BatchToBatchChange } from '../http/schemas/batch-to-batch.js';

const rowKey = (r: BucketRow) => `${r.bucketStart}|${JSON.stringify(r.dims)}`;

/** The kept run published just before `latest` (runs are newest first). */
export function previousOf(runs: readonly BatchRunInfo[], latest: BatchRunInfo | null): BatchRunInfo | null {
  if (latest === null) return null;
  const i = runs.findIndex((r) => r.runId === latest.runId);
  return i < 0 ? null : (runs[i + 1] ?? null);
}

/**
 * How the answer's run differs from the one before it, split in two: late events absorbed into
 * buckets the previous run already served, and buckets newly covered because W moved forward.
 */
export function batchToBatch(snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery, maxRows = MAX_ANSWER_ROWS): BatchToBatch {
  const latest = snap.run;
  const previous = previousOf(snap.runs, latest);
  if (!latest || !previous) return { note: 'fewer than two batch runs are kept: nothing to compare yet', changes: [] };
  const q = { view: view.name, granularity: rq.granularity, from: rq.from, to: rq.to, filter: rq.filter, maxRows };
  let beforeRows: BucketRow[];
  try {
    beforeRows = snap.series(q, previous.runId);
  } catch (err) {
    if (!isLambdaError(err) || err.code !== 'NOT_FOUND') throw err;
    // The store could not hold the previous run and it was pruned meanwhile: say so, answer the rest.
    return {
      previousRunId: previous.runId,
      latestRunId: latest.runId,
      unavailable: `batch run "${previous.runId}" was pruned (a newer run was published) while this answer was being built; ask again to compare the two runs kept now`,
      changes: [],
    };
  }
  checkAnswerRows(beforeRows.length, maxRows);
  const before = new Map(beforeRows.map((r) => [rowKey(r), r]));
  const afterRows = snap.series(q, latest.runId);
  checkAnswerRows(afterRows.length, maxRows);
  const after = new Map(afterRows.map((r) => [rowKey(r), r]));
  // Each run serves the buckets before its own boundary B_g = floor_g(W). A bucket before both
  // boundaries was served by both runs: a count that grew there is late data the recomputation
  // absorbed. A bucket in [B_previous, B_latest) is newly covered because W moved: the previous
  // run held at most a partial row there, never served, so its events are not "late". Buckets at
  // or after B_latest are served by neither run and are not compared.
  const g = rq.granularity;
  const bPrevious = servingBoundary(previous.watermark, g)!;
  const bLatest = servingBoundary(latest.watermark, g)!;
  const servedByBoth = Math.min(bPrevious, bLatest);
  const firstCount = Object.entries(view.measures).find(([, d]) => countsEvents(d))?.[0];
  const changes: BatchToBatchChange[] = [];
  let lateEvents = 0;
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(key);
    const a = after.get(key);
    const row = (a ?? b)!;
    if (row.bucketStart >= servedByBoth) continue;
    const measures: BatchToBatchChange['measures'] = {};
    for (const [name, def] of Object.entries(view.measures)) {
      const x = b?.values[name] ?? null;
      const y = a?.values[name] ?? null;
      if (x === y) continue;
      measures[name] = { before: x, after: y, ...drift(x ?? 0, y ?? 0, exactDecimals(def)) };
    }
    if (Object.keys(measures).length === 0) continue;
    if (firstCount) lateEvents += (a?.values[firstCount] ?? 0) - (b?.values[firstCount] ?? 0);
    changes.push({ start: row.bucketStart, dims: dimsRecord(view, row.dims, view.dimensions), measures });
  }
  const isNew = (start: number) => start >= bPrevious && start < bLatest;
  const newRows = [...after.values()].filter((r) => isNew(r.bucketStart));
  const newlyCovered = {
    from: bPrevious,
    to: Math.max(bPrevious, bLatest),
    buckets: rq.buckets.filter(isNew).length,
    bucketsWithEvents: new Set(newRows.map((r) => r.bucketStart)).size,
    events: firstCount ? newRows.reduce((sum, r) => sum + (r.values[firstCount] ?? 0), 0) : null,
  };
  return {
    previousRunId: previous.runId,
    latestRunId: latest.runId,
    watermarks: { previous: previous.watermark, latest: latest.watermark },
    boundaries: { previous: bPrevious, latest: bLatest },
    rowsChanged: changes.length,
    lateEventsAbsorbed: firstCount ? lateEvents : null,
    newlyCovered,
    changes: changes.slice(0, 1000),
  };
}
