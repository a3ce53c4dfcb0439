/**
 * Drift, the teaching purpose (docs/design-decisions.md §7): for buckets both layers hold, the batch value, the
 * speed value, their absolute and relative difference, and the causes the service can know
 * (late arrivals, HyperLogLog estimates, duplicates when speed dedupe is off); then how each
 * bucket changed between the two latest batch runs (late data absorbed by recomputation).
 */
import { countsEvents, emptyValue, exactDecimals, isSketched, sketchedIn } from '../../shared/aggregate/measure-kinds.js';
import { attributeBucket, missingFromRunCause, type RunTimes } from '../../shared/drift-attribution.js';
import { drift, servingBoundary, speedGap } from '../../shared/merge.js';
import { SketchUnion } from '../../shared/hll/sketch.js';
import { granularityMs } from '../../shared/time.js';
import type { ViewDef } from '../../shared/views/definition.js';
import type { BatchSnapshot, BucketRow, LateClassEvent, SeriesQuery, SpeedStatus } from '../../shared/ports.js';
import type { DriftAnswer, DriftCause } from '../http/schemas/drift.js';
import type { batchToBatch } from './batch-to-batch.js';
import type { QueryContext, SpeedRowWithCounters } from './context.js';
import type { ResolvedQuery } from './params.js';
import { dimsRecord } from './rollup.js';
import { withSnapshot } from './snapshot.js';
import { checkAnswerRows, maxAnswerRows } from './limits.js';
import { directReader, type DriftReader, type SpeedRead } from './drift-reader.js';
import { causeDetail, explainNoOverlap, hllDetail, unexplainedWarning } from './drift-text.js';

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
  /** distinct measures: the batch run's own sketch against its exact count (see the schema) */
  batchSketchMeanRelative?: number | null;
  batchSketchMaxRelative?: number | null;
}

export interface DriftBucket {
  start: number;
  end: number;
  /** events the speed layer holds that the run cannot have (arrived after its snapshot), the sum of the three timing causes */
  late: number;
  duplicates: number;
  countDiff: number;
  /** the part of countDiff no cause explains (0 when the known causes are the only ones) */
  unexplained: number;
  causes: { cause: DriftCause; events?: number; exact?: boolean; detail: string }[];
  rows: {
    dims: Record<string, string | null>;
    measures: Record<string, { batch: number | null; speed: number | null; batchSketch?: number | null } & ReturnType<typeof drift>>;
  }[];
}

/** One (bucket, dimensions) row as each layer holds it; a side is missing when that layer has no row. */
interface JoinedRow {
  start: number;
  dims: (string | null)[];
  batch?: BucketRow;
  speed?: BucketRow;
}

function countDiff(view: ViewDef, rows: readonly JoinedRow[]): number {
  const counts = Object.entries(view.measures)
    .filter(([, d]) => countsEvents(d))
    .map(([n]) => n);
  const first = counts[0];
  if (!first) return 0;
  return rows.reduce((s, r) => s + ((r.speed?.values[first] ?? 0) - (r.batch?.values[first] ?? 0)), 0);
}

/** A read of the speed layer and when it started (epoch ms): the answer is as of the oldest. */
/** The drift report computed from scratch, from one batch snapshot: the published run and the one before it held open. */
export function driftAnswer(ctx: QueryContext, view: ViewDef, rq: ResolvedQuery): Promise<DriftAnswer> {
  return withSnapshot(ctx.batch, 2, async (snap) => (await driftReads(ctx, snap, view, rq, directReader(ctx))).compute());
}

/**
 * The drift report in two steps: the speed layer is read first (`reads`, the objects the answer is
 * built from), then `compute` builds the answer from them and the snapshot's runs without another
 * read of Redis. The cache reuses an answer while its reads are the same objects.
 */
export interface DriftPlan {
  reads: readonly SpeedRead<unknown>[];
  compute(): DriftAnswer;
}

export async function driftReads(ctx: QueryContext, snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery, reader: DriftReader): Promise<DriftPlan> {
  const g = rq.granularity;
  const len = granularityMs(g);
  const latest = snap.run;
  const boundary = servingBoundary(latest?.watermark ?? null, g);
  const statusRead = await reader.status();
  const status = statusRead.value;
  const retention = ctx.speed.retentionMs(g);
  // Both layers hold a bucket when the batch run covers it (before the boundary) and the speed
  // layer has it whole (at or after coveredSince, and not yet expired). The others before the
  // boundary are named, with the reason, instead of compared.
  const notCompared: { start: number; reason: 'speed_not_covered' | 'speed_expired' }[] = [];
  const both = rq.buckets.filter((b) => {
    if (boundary === null || b >= boundary) return false;
    const reason = speedGap(b, { coveredSince: status.coveredSince, g, speedRetentionMs: retention, now: statusRead.readAt });
    if (reason !== null) notCompared.push({ start: b, reason });
    return reason === null;
  });
  const max = maxAnswerRows(ctx);
  const snapshot = latest?.snapshot;
  const range = both.length > 0 ? { view: view.name, granularity: g, from: both[0]!, to: both[both.length - 1]! + len, filter: rq.filter } : null;
  const [rowsRead, lateRead] = range ? await Promise.all([reader.rows(range), snapshot ? reader.lateClass(range, snapshot.through) : null]) : [null, null];
  const reads = [statusRead, ...(rowsRead ? [rowsRead] : []), ...(lateRead ? [lateRead] : [])];
  const readAt = Math.min(...reads.map((r) => r.readAt));
  return {
    reads,
    compute: () =>
      driftCompute(snap, view, rq, {
        boundary,
        status,
        readAt,
        both,
        notCompared,
        batchRows: range ? snap.series({ ...range, maxRows: max }) : [],
        batchSketches: range ? batchSketchEstimates(snap, view, rq, range) : new Map(),
        maxRows: max,
        speedRows: rowsRead?.value ?? [],
        lateClass: lateRead?.value ?? [],
        batchToBatch: () => reader.batchToBatch(snap, view, rq, max),
      }),
  };
}

interface DriftInputs {
  boundary: number | null;
  status: SpeedStatus;
  readAt: number;
  both: number[];
  notCompared: { start: number; reason: 'speed_not_covered' | 'speed_expired' }[];
  batchRows: BucketRow[];
  /** distinct measure -> row key -> the estimate of the run's sketch of that row; null: the run keeps no sketches */
  batchSketches: Map<string, Map<string, number> | null>;
  speedRows: SpeedRowWithCounters[];
  lateClass: LateClassEvent[];
  maxRows: number;
  batchToBatch: () => ReturnType<typeof batchToBatch>;
}

function driftCompute(snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery, input: DriftInputs): DriftAnswer {
  const { boundary, status, both, notCompared, batchRows, speedRows, lateClass } = input;
  checkAnswerRows(batchRows.length + speedRows.length, input.maxRows);
  const g = rq.granularity;
  const len = granularityMs(g);
  const latest = snap.run;
  const perBucket: DriftBucket[] = [];
  // Per measure asked for: every joined row is compared; a row differs when the values are not
  // equal (a missing side included); the relative difference exists only for some of them.
  const stats = new Map(rq.measures.map((m) => [m, { compared: 0, differing: 0, rel: [] as number[], sketchRel: [] as number[] }]));
  // What the run read (absent in runs of older versions: then events it lacks stay unexplained).
  const snapshot = latest?.snapshot;
  const runTimes: RunTimes | null = latest && snapshot ? { snapshotAt: snapshot.at, publishedAt: latest.finishedAt } : null;
  const speedBehindRecords = snapshot
    ? status.partitions.reduce((n, p) => n + Math.max(0, (snapshot.through[String(p.partition)] ?? -1) + 1 - p.offset), 0)
    : 0;
  let unexplainedTotal = 0;
  if (both.length > 0) {
    const notes = new Map<number, { duplicates: number; unchecked: number; missing: Partial<Record<ReturnType<typeof missingFromRunCause>, number>> }>();
    const note = (b: number) => {
      let n = notes.get(b);
      if (!n) notes.set(b, (n = { duplicates: 0, unchecked: 0, missing: {} }));
      return n;
    };
    for (const r of speedRows) {
      const n = note(r.bucketStart);
      n.duplicates += r.duplicates;
      n.unchecked += r.unchecked;
    }
    for (const e of lateClass) {
      const cause = missingFromRunCause(e.arrival, runTimes!);
      const n = note(e.bucketStart);
      n.missing[cause] = (n.missing[cause] ?? 0) + 1;
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
      const n = notes.get(start) ?? { duplicates: 0, unchecked: 0, missing: {} };
      const rows = entries.map((e) => ({
        dims: dimsRecord(view, e.dims, view.dimensions),
        measures: Object.fromEntries(
          rq.measures.map((name) => {
            const def = view.measures[name]!;
            const b = e.batch?.values[name] ?? emptyValue(def);
            const s = e.speed?.values[name] ?? emptyValue(def);
            const d = drift(b, s, exactDecimals(def));
            const st = stats.get(name)!;
            st.compared++;
            if (d.abs !== 0) st.differing++; // abs is null when one side has no value: they differ
            if (d.rel !== null) st.rel.push(d.rel);
            if (!isSketched(def)) return [name, { batch: b, speed: s, ...d }];
            // The batch run's own sketch of the row: no sketch row means no member (0).
            const sketches = input.batchSketches.get(name) ?? null;
            const batchSketch = sketches === null ? null : (sketches.get(`${e.start}|${JSON.stringify(e.dims)}`) ?? 0);
            if (batchSketch !== null && b !== null && b > 0) st.sketchRel.push(Math.abs(batchSketch - b) / b);
            return [name, { batch: b, speed: s, ...d, batchSketch }];
          }),
        ),
      }));
      const diff = countDiff(view, entries);
      const attributed = attributeBucket({ countDiff: diff, missingFromRun: n.missing, duplicates: n.duplicates, unchecked: n.unchecked, speedBehindRecords });
      const causes: DriftBucket['causes'] = attributed.map((c) => ({
        cause: c.cause,
        events: c.events,
        exact: c.exact,
        detail: causeDetail(c, latest?.runId ?? ''),
      }));
      if (rq.measures.some((m) => sketchedIn(view, m)))
        causes.push({
          cause: 'hll_estimate',
          detail: hllDetail(
            rows,
            rq.measures.filter((m) => sketchedIn(view, m)),
          ),
        });
      const unexplained = attributed.find((c) => c.cause === 'unexplained')?.events ?? 0;
      unexplainedTotal += Math.abs(unexplained);
      const late = (n.missing.not_archived_at_snapshot ?? 0) + (n.missing.arrived_during_batch_run ?? 0) + (n.missing.late_arrivals ?? 0);
      perBucket.push({ start, end: start + len, late, duplicates: n.duplicates, countDiff: diff, unexplained, causes, rows });
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
          ...(sketchedIn(view, m) && input.batchSketches.get(m) !== null
            ? {
                batchSketchMeanRelative: st.sketchRel.length ? st.sketchRel.reduce((a, b) => a + b, 0) / st.sketchRel.length : null,
                batchSketchMaxRelative: st.sketchRel.length ? Math.max(...st.sketchRel) : null,
              }
            : {}),
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
    speed: { coveredSince: status.coveredSince, readAt: input.readAt },
    provenance:
      "batch values from the published batch run (exact, SQLite); speed values from Redis (realtime; distinct counts are HyperLogLog estimates); causes from the run's snapshot (the offsets it read, when) and the speed layer's per-bucket record of late-class events, duplicates and unchecked copies",
    bucketsCompared: both.length,
    notCompared,
    note: both.length === 0 ? explainNoOverlap(boundary, status.coveredSince) : undefined,
    summary,
    unexplainedEvents: unexplainedTotal,
    ...(unexplainedTotal > 0 ? { warning: unexplainedWarning(unexplainedTotal, snapshot !== undefined) } : {}),
    buckets: perBucket,
    batchToBatch: input.batchToBatch(),
  };
}

/**
 * Per distinct measure asked for, the estimates of the run's own sketches of the compared rows
 * (issue 16): what HyperLogLog error alone does to an exact count, beside the speed layer's.
 */
function batchSketchEstimates(snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery, range: SeriesQuery): Map<string, Map<string, number> | null> {
  const out = new Map<string, Map<string, number> | null>();
  for (const m of rq.measures) {
    if (!sketchedIn(view, m)) continue;
    const rows = snap.sketches(range, m);
    out.set(
      m,
      rows === null ? null : new Map(rows.map((r) => [`${r.bucketStart}|${JSON.stringify(r.dims)}`, new SketchUnion().addRedis(r.sketch).estimate()])),
    );
  }
  return out;
}
