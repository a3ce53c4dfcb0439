/**
 * Drift, the teaching purpose (DESIGN §7): for buckets both layers hold, the batch value, the
 * speed value, their absolute and relative difference, and the causes the service can know
 * (late arrivals, HyperLogLog estimates, duplicates when speed dedupe is off); then how each
 * bucket changed between the two latest batch runs (late data absorbed by recomputation).
 */
import { drift, servingBoundary } from '../../shared/merge.js';
import { granularityMs } from '../../shared/time.js';
import type { ViewDef } from '../../shared/views/definition.js';
import type { BatchRunInfo, BatchSnapshot, BucketRow } from '../../shared/ports.js';
import { isLambdaError } from '../../shared/errors.js';
import type { QueryContext } from './context.js';
import type { ResolvedQuery } from './params.js';
import { dimsRecord } from './rollup.js';
import { withSnapshot } from './snapshot.js';

/** Relative standard error of Redis's HyperLogLog (16384 registers): 1.04 / sqrt(16384). */
export const HLL_STANDARD_ERROR = 0.0081;

const rowKey = (r: BucketRow) => `${r.bucketStart}|${JSON.stringify(r.dims)}`;

/**
 * Per measure, over the rows of the buckets both layers hold: rowsDiffering <= rowsCompared
 * always; the relative difference is averaged over rowsWithRelative rows (it is undefined where
 * the batch value is 0 or either side has no value).
 */
export interface MeasureSummary {
  rowsCompared: number;
  rowsDiffering: number;
  rowsWithRelative: number;
  meanRelative: number | null;
  maxRelative: number | null;
}

export interface DriftBucket {
  start: number;
  end: number;
  late: number;
  duplicates: number;
  countDiff: number;
  causes: { cause: string; events?: number; detail: string }[];
  rows: { dims: Record<string, string | null>; measures: Record<string, { batch: number | null; speed: number | null } & ReturnType<typeof drift>> }[];
}

/** One (bucket, dimensions) row as each layer holds it; a side is missing when that layer has no row. */
interface JoinedRow {
  start: number;
  dims: (string | null)[];
  batch?: BucketRow;
  speed?: BucketRow;
}

function countDiff(view: ViewDef, rows: readonly JoinedRow[]): number {
  const counts = Object.entries(view.measures).filter(([, d]) => d.type === 'count').map(([n]) => n);
  const first = counts[0];
  if (!first) return 0;
  return rows.reduce((s, r) => s + ((r.speed?.values[first] ?? 0) - (r.batch?.values[first] ?? 0)), 0);
}

/** The drift report, from one batch snapshot: the published run and the one before it held open. */
export function driftAnswer(ctx: QueryContext, view: ViewDef, rq: ResolvedQuery) {
  return withSnapshot(ctx.batch, 2, (snap) => driftFrom(ctx, snap, view, rq));
}

async function driftFrom(ctx: QueryContext, snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery) {
  const g = rq.granularity;
  const len = granularityMs(g);
  const latest = snap.run;
  const boundary = servingBoundary(latest?.watermark ?? null, g);
  const status = await ctx.speed.status();
  const now = ctx.now();
  const retention = ctx.speed.retentionMs(g);
  // Both layers hold a bucket when the batch run covers it (before the boundary) and the speed
  // layer has it whole (at or after coveredSince, and not yet expired).
  const both = rq.buckets.filter(
    (b) => boundary !== null && b < boundary && status.coveredSince !== null && b >= status.coveredSince && b + len + retention > now,
  );
  const perBucket: DriftBucket[] = [];
  // Per measure asked for: every joined row is compared; a row differs when the values are not
  // equal (a missing side included); the relative difference exists only for some of them.
  const stats = new Map(rq.measures.map((m) => [m, { compared: 0, differing: 0, rel: [] as number[] }]));
  if (both.length > 0) {
    const range = { view: view.name, granularity: g, from: both[0]!, to: both[both.length - 1]! + len, filter: rq.filter };
    const [batchRows, speedRows] = await Promise.all([Promise.resolve(snap.series(range)), ctx.speed.seriesWithCounters(range)]);
    const notes = new Map<number, { late: number; duplicates: number }>();
    for (const r of speedRows) {
      const n = notes.get(r.bucketStart) ?? { late: 0, duplicates: 0 };
      n.late += r.late;
      n.duplicates += r.duplicates;
      notes.set(r.bucketStart, n);
    }
    const joined = new Map<string, JoinedRow>();
    for (const r of batchRows) joined.set(rowKey(r), { start: r.bucketStart, dims: r.dims, batch: r });
    for (const r of speedRows) {
      const e = joined.get(rowKey(r));
      if (e) e.speed = r;
      else joined.set(rowKey(r), { start: r.bucketStart, dims: r.dims, speed: r });
    }
    const bothSet = new Set(both);
    const byBucket = new Map<number, JoinedRow[]>();
    for (const e of joined.values()) {
      if (!bothSet.has(e.start)) continue;
      let list = byBucket.get(e.start);
      if (!list) byBucket.set(e.start, (list = []));
      list.push(e);
    }
    for (const start of both) {
      const entries = byBucket.get(start) ?? [];
      const note = notes.get(start) ?? { late: 0, duplicates: 0 };
      const rows = entries.map((e) => ({
        dims: dimsRecord(view, e.dims, view.dimensions),
        measures: Object.fromEntries(
          rq.measures.map((name) => {
            const def = view.measures[name]!;
            const b = e.batch?.values[name] ?? (def.type === 'min' || def.type === 'max' ? null : 0);
            const s = e.speed?.values[name] ?? (def.type === 'min' || def.type === 'max' ? null : 0);
            const d = drift(b, s, def.type === 'count' || def.type === 'distinct' ? undefined : def.decimals);
            const st = stats.get(name)!;
            st.compared++;
            if (d.abs !== 0) st.differing++; // abs is null when one side has no value: they differ
            if (d.rel !== null) st.rel.push(d.rel);
            return [name, { batch: b, speed: s, ...d }];
          }),
        ),
      }));
      const diff = countDiff(view, entries);
      const causes: { cause: string; events?: number; detail: string }[] = [];
      if (note.late > 0) causes.push({ cause: 'late_arrivals', events: note.late, detail: `${note.late} event(s) reached the speed layer after the batch watermark had passed this bucket; a batch run that started before they were archived does not have them` });
      if (note.duplicates > 0) causes.push({ cause: 'duplicates', events: note.duplicates, detail: `speed dedupe was off: ${note.duplicates} repeated event id(s) were counted again by the speed layer; the batch layer drops them exactly` });
      if (rq.measures.some((m) => view.measures[m]?.type === 'distinct')) causes.push({ cause: 'hll_estimate', detail: `distinct counts in the speed layer are HyperLogLog estimates (standard error ${(HLL_STANDARD_ERROR * 100).toFixed(2)}%); the batch layer counts exactly` });
      const explained = note.late + note.duplicates;
      if (diff !== 0 && Math.abs(diff) > explained) causes.push({ cause: 'unexplained', events: Math.abs(diff) - explained, detail: 'count difference not covered by the counted causes: typically late events that arrived while the batch run was in progress (after its snapshot, before its watermark was published), or events the speed layer has not consumed yet' });
      perBucket.push({ start, end: start + len, late: note.late, duplicates: note.duplicates, countDiff: diff, causes, rows });
    }
  }
  const summary: Record<string, MeasureSummary> = Object.fromEntries(
    [...stats].map(([m, st]) => {
      const xs = st.rel;
      return [
        m,
        {
          rowsCompared: st.compared,
          rowsDiffering: st.differing,
          rowsWithRelative: xs.length,
          meanRelative: xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null,
          maxRelative: xs.length ? Math.max(...xs) : null,
        },
      ];
    }),
  );
  return {
    view: view.name,
    granularity: g,
    from: rq.from,
    to: rq.to,
    batch: latest ? { runId: latest.runId, watermark: latest.watermark, boundary } : null,
    speed: { coveredSince: status.coveredSince },
    provenance: 'batch values from the published batch run (exact, SQLite); speed values from Redis (realtime; distinct counts are HyperLogLog estimates); causes from the speed layer\'s per-bucket late and duplicate counters',
    bucketsCompared: both.length,
    note: both.length === 0 ? explainNoOverlap(boundary, status.coveredSince) : undefined,
    summary,
    buckets: perBucket,
    batchToBatch: batchToBatch(snap, view, rq),
  };
}

function explainNoOverlap(boundary: number | null, coveredSince: number | null): string {
  if (boundary === null) return 'no batch run has been published yet: there is nothing to compare the speed layer with';
  if (coveredSince === null) return 'the speed layer has not recorded coveredSince yet (not started?)';
  return 'no bucket in the range is held by both layers (before the batch boundary and inside the speed layer\'s coverage and retention)';
}

/** The kept run published just before `latest` (runs are newest first). */
function previousOf(runs: readonly BatchRunInfo[], latest: BatchRunInfo | null): BatchRunInfo | null {
  if (latest === null) return null;
  const i = runs.findIndex((r) => r.runId === latest.runId);
  return i < 0 ? null : (runs[i + 1] ?? null);
}

/**
 * How the answer's run differs from the one before it, split in two: late events absorbed into
 * buckets the previous run already served, and buckets newly covered because W moved forward.
 */
function batchToBatch(snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery) {
  const latest = snap.run;
  const previous = previousOf(snap.runs, latest);
  if (!latest || !previous) return { note: 'fewer than two batch runs are kept: nothing to compare yet', changes: [] };
  const q = { view: view.name, granularity: rq.granularity, from: rq.from, to: rq.to, filter: rq.filter };
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
  const before = new Map(beforeRows.map((r) => [rowKey(r), r]));
  const after = new Map(snap.series(q, latest.runId).map((r) => [rowKey(r), r]));
  // Each run serves the buckets before its own boundary B_g = floor_g(W). A bucket before both
  // boundaries was served by both runs: a count that grew there is late data the recomputation
  // absorbed. A bucket in [B_previous, B_latest) is newly covered because W moved: the previous
  // run held at most a partial row there, never served, so its events are not "late". Buckets at
  // or after B_latest are served by neither run and are not compared.
  const g = rq.granularity;
  const bPrevious = servingBoundary(previous.watermark, g)!;
  const bLatest = servingBoundary(latest.watermark, g)!;
  const servedByBoth = Math.min(bPrevious, bLatest);
  const firstCount = Object.entries(view.measures).find(([, d]) => d.type === 'count')?.[0];
  const changes: unknown[] = [];
  let lateEvents = 0;
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(key);
    const a = after.get(key);
    const row = (a ?? b)!;
    if (row.bucketStart >= servedByBoth) continue;
    const measures: Record<string, unknown> = {};
    for (const [name, def] of Object.entries(view.measures)) {
      const x = b?.values[name] ?? null;
      const y = a?.values[name] ?? null;
      if (x === y) continue;
      measures[name] = { before: x, after: y, ...drift(x ?? 0, y ?? 0, def.type === 'count' || def.type === 'distinct' ? undefined : def.decimals) };
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
