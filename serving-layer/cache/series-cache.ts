/**
 * The merged series from the serving cache: byte for byte the answer seriesAnswer (query/series.ts)
 * computes from scratch, built from parts (docs/design-decisions.md, "Serving cache"):
 * - the batch part (the buckets before the boundary) as ready JSON bytes, computed once per
 *   (run, view, granularity, filter, groupBy, measures, bucket range) while the run is kept;
 * - the speed part from reads shared within the staleness bound (fresh-reads.ts);
 * - the whole answer, reused while it was built from the same run and the same speed reads.
 * With `limit`, the kept groups are ranked over both parts' totals; the batch bytes for that set
 * of groups are cached beside the unfiltered ones.
 */
import { chooseSource, incompleteBuckets, servingBoundary } from '../../shared/merge.js';
import type { BatchRunInfo, BatchSnapshot, BucketRow, SeriesQuery, SketchRow, SpeedStatus } from '../../shared/ports.js';
import { granularityMs } from '../../shared/time.js';
import { keepsEveryDimension, type ViewDef } from '../../shared/views/definition.js';
import type { QueryContext } from '../query/context.js';
import type { ResolvedQuery } from '../query/params.js';
import { rollUp, type Folded, type Group } from '../query/rollup.js';
import { groupTotals, mergeTotals, runRange, seriesBucket, seriesEnvelope, topGroups } from '../query/series.js';
import { takeSnapshot } from '../query/snapshot.js';
import { checkAnswerRows, maxAnswerRows } from '../query/limits.js';
import { distinctAsked, fillCombinedDistinct, type DistinctFacts } from '../query/uniques.js';
import { PreparedJson } from '../http/prepared.js';
import type { SeriesAnswer } from '../http/schemas/series.js';
import type { FreshRead } from './fresh-reads.js';
import type { RunBound, ServingCache } from './serving-cache.js';

/** The batch buckets of one query over one run, serialised. */
interface BatchPart extends RunBound {
  /** the buckets' JSON objects joined by commas, every group kept */
  bytes: Buffer;
  totals: Map<string, Folded>;
  /** the batch buckets' distinct facts: combined groups are sketch unions (query/uniques.ts) */
  distinct: DistinctFacts;
  /** rows the part was computed from (the answer's bound counts them) */
  rows: number;
  /** with `limit`: the bytes for one set of kept groups (a few sets at most) */
  kept: Map<string, Buffer>;
  key: string;
  /** what the part weighs in the cache's budget, its kept sets included */
  weight: number;
}

interface Answer extends RunBound {
  /** the run record the answer shows (records are rewritten on their publish: final timings) */
  run: BatchRunInfo | null;
  batch: BatchPart | null;
  status: FreshRead<SpeedStatus>;
  speed: FreshRead<BucketRow[]> | null;
  /** the speed part's sketches per distinct measure, when groups may combine (issue 16) */
  sketches: FreshRead<Map<string, SketchRow[]>> | null;
  body: PreparedJson<SeriesAnswer>;
  incompleteCount: number;
}

const MAX_KEPT_SETS = 4;
const EMPTY = Buffer.alloc(0);

/** The parameters that decide an answer's bytes, besides the run and the speed reads. */
function queryKey(view: ViewDef, rq: ResolvedQuery): string {
  return JSON.stringify([view.name, rq.granularity, rq.filter, rq.groupBy, rq.measures, rq.from, rq.to, rq.limit]);
}

function batchKey(view: ViewDef, rq: ResolvedQuery, runId: string, range: { from: number; to: number }): string {
  return JSON.stringify([runId, view.name, rq.granularity, rq.filter, rq.groupBy, rq.measures, range.from, range.to]);
}

function bucketBytes(rq: ResolvedQuery, buckets: readonly number[], byBucket: ReadonlyMap<number, Group[]>, keep: ReadonlySet<string> | null): Buffer {
  return Buffer.from(buckets.map((b) => JSON.stringify(seriesBucket(rq, b, 'batch', undefined, byBucket.get(b) ?? [], keep))).join(','));
}

function keepKey(keep: ReadonlySet<string>): string {
  return [...keep].join('\u0000');
}

export async function cachedSeriesAnswer(
  ctx: QueryContext,
  cache: ServingCache,
  view: ViewDef,
  rq: ResolvedQuery,
): Promise<{ body: PreparedJson<SeriesAnswer>; incompleteCount: number }> {
  const snap = takeSnapshot(ctx.batch, 1);
  try {
    cache.keptRuns(snap.runs);
    return await answerFrom(ctx, cache, snap, view, rq);
  } finally {
    snap.release();
  }
}

async function answerFrom(ctx: QueryContext, cache: ServingCache, snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery) {
  const g = rq.granularity;
  const len = granularityMs(g);
  const run = snap.run;
  const boundary = servingBoundary(run?.watermark ?? null, g);
  const batchBuckets = rq.buckets.filter((b) => chooseSource(b, boundary) === 'batch');
  const speedBuckets = rq.buckets.filter((b) => chooseSource(b, boundary) === 'speed');
  const batchRange = runRange(batchBuckets, len);
  const speedRange = runRange(speedBuckets, len);
  const max = maxAnswerRows(ctx);
  const base = { view: view.name, granularity: g, filter: rq.filter, keep: rq.groupBy, maxRows: max } satisfies Omit<SeriesQuery, 'from' | 'to'>;
  const readKey = JSON.stringify([view.name, g, rq.filter, rq.groupBy, speedRange?.from, speedRange?.to]);
  // Groups that combine stored groups take their distinct values from sketch unions: the speed
  // part's sketches are one shared read too, made whenever groupBy drops a dimension.
  const distinctMeasures = distinctAsked(view, rq);
  const sketchKey = JSON.stringify(['sketches', view.name, g, rq.filter, distinctMeasures, speedRange?.from, speedRange?.to]);
  const readSketches = speedRange !== null && distinctMeasures.length > 0 && !keepsEveryDimension(view, rq.groupBy);
  const { filter } = rq;
  // The rows and the sketches of the range take one content check between them (cache/fresh-reads.ts).
  const q = speedRange ? { ...base, ...speedRange } : null;
  const [status, speed, sketches] = await Promise.all([
    cache.speedRead('status', () => ctx.speed.status()),
    q
      ? cache.speedRead(
          readKey,
          () => ctx.speed.series(q),
          () => ctx.speed.contentCheck(q),
          q,
        )
      : Promise.resolve(null),
    readSketches && q
      ? cache.speedRead(
          sketchKey,
          async () => {
            const sq = { view: view.name, granularity: g, filter, maxRows: max, from: q.from, to: q.to };
            return new Map(await Promise.all(distinctMeasures.map(async (m) => [m, await ctx.speed.distinctSketches(sq, m)] as const)));
          },
          () => ctx.speed.contentCheck(q),
          q,
        )
      : Promise.resolve(null),
  ]);
  const key = queryKey(view, rq);
  const prior = cache.get<Answer>('answer', key, (a) => a.status === status && a.speed === speed && a.sketches === sketches && a.run === run);
  if (prior) return prior;
  const runIds = run ? [run.runId] : [];

  const batch = run && batchRange ? await batchPart(ctx, cache, snap, run, view, rq, batchBuckets, batchRange, max) : null;
  checkAnswerRows((batch?.rows ?? 0) + (speed?.value.length ?? 0), max);
  const speedRows = (speed?.value ?? []).filter((r) => chooseSource(r.bucketStart, boundary) === 'speed');
  const speedGroups = rollUp(view, speedRows, rq.groupBy);
  const sourceOf = (b: number) => chooseSource(b, boundary);
  const speedDistinct = await fillCombinedDistinct(ctx, snap, view, rq, speedGroups, sourceOf, { batchRange: null, speedRange }, (_q, m) =>
    Promise.resolve(sketches?.value.get(m) ?? []),
  );
  const speedTotals = groupTotals(view, speedGroups);
  const keep = rq.limit === null ? null : topGroups(view, mergeTotals(view, batch?.totals ?? new Map(), speedTotals), rq.limit);
  const batchBytes = batch === null ? EMPTY : keep === null ? batch.bytes : await keptBytes(ctx, cache, snap, view, rq, batch, batchBuckets, batchRange!, keep);
  // The answer is as of the older of its reads: the speed layer was read no earlier than that.
  const readAt = Math.min(status.readAt, speed?.readAt ?? status.readAt);
  const incomplete = incompleteBuckets(rq.buckets, {
    boundary,
    coveredSince: status.value.coveredSince,
    g,
    speedRetentionMs: ctx.speed.retentionMs(g),
    now: readAt,
  });
  const reasons = new Map(incomplete.map((i) => [i.bucketStart, i.reason]));
  const speedJson = speedBuckets.map((b) => JSON.stringify(seriesBucket(rq, b, 'speed', reasons.get(b), speedGroups.get(b) ?? [], keep))).join(',');
  // In the oracle's order (the view's distinct measures): either part may make a measure approximate.
  const either = (pick: (d: DistinctFacts) => string[]) =>
    distinctMeasures.filter((m) => pick(speedDistinct).includes(m) || (batch !== null && pick(batch.distinct).includes(m)));
  const distinct: DistinctFacts = { approximate: either((d) => d.approximate), unavailable: either((d) => d.unavailable) };
  const head = JSON.stringify(seriesEnvelope(view, rq, { run, boundary, speed: status.value, readAt, incomplete, distinct }, []));
  // head ends with "buckets":[]} : splice the bucket bytes in between the brackets.
  const body = Buffer.concat([
    Buffer.from(head.slice(0, -2)),
    batchBytes,
    Buffer.from(`${batchBytes.length > 0 && speedJson.length > 0 ? ',' : ''}${speedJson}]}`),
  ]);
  const etag = cache.etag(
    'series',
    key,
    run?.runId ?? '',
    run?.startedAt ?? '',
    run?.finishedAt ?? '',
    status.generation,
    speed?.generation ?? '',
    sketches?.generation ?? '',
  );
  const answer: Answer = { runIds, run, batch, status, speed, sketches, body: new PreparedJson<SeriesAnswer>(body, etag), incompleteCount: incomplete.length };
  cache.set('answer', key, answer, body.length + key.length);
  return answer;
}

async function batchPart(
  ctx: QueryContext,
  cache: ServingCache,
  snap: BatchSnapshot,
  run: BatchRunInfo,
  view: ViewDef,
  rq: ResolvedQuery,
  buckets: readonly number[],
  range: { from: number; to: number },
  max: number,
): Promise<BatchPart> {
  const key = batchKey(view, rq, run.runId, range);
  const hit = cache.get<BatchPart>('batch', key);
  if (hit) return hit;
  const rows = batchRows(snap, view, rq, range, max);
  checkAnswerRows(rows.read, max);
  const { byBucket, distinct } = await batchGroups(ctx, snap, view, rq, rows.kept, range);
  const bytes = bucketBytes(rq, buckets, byBucket, null);
  const totals = groupTotals(view, byBucket);
  const part: BatchPart = {
    runIds: [run.runId],
    bytes,
    totals,
    distinct,
    rows: rows.read,
    kept: new Map(),
    key,
    // Totals are small next to the bytes; count a generous 200 bytes per group for them.
    weight: bytes.length + totals.size * 200 + key.length,
  };
  cache.set('batch', key, part, part.weight);
  return part;
}

/** The batch rows rolled up to groupBy, with the distinct values of combined groups from the run's sketches. */
async function batchGroups(
  ctx: QueryContext,
  snap: BatchSnapshot,
  view: ViewDef,
  rq: ResolvedQuery,
  rows: readonly BucketRow[],
  range: { from: number; to: number },
) {
  const byBucket = rollUp(view, rows, rq.groupBy);
  const boundary = servingBoundary(snap.run?.watermark ?? null, rq.granularity);
  const distinct = await fillCombinedDistinct(ctx, snap, view, rq, byBucket, (b) => chooseSource(b, boundary), { batchRange: range, speedRange: null });
  return { byBucket, distinct };
}

/** The run's rows of the batch range: how many were read (the bound counts them), and those before the boundary. */
function batchRows(
  snap: BatchSnapshot,
  view: ViewDef,
  rq: ResolvedQuery,
  range: { from: number; to: number },
  max: number,
): { read: number; kept: BucketRow[] } {
  const boundary = servingBoundary(snap.run?.watermark ?? null, rq.granularity);
  const rows = snap.series({ view: view.name, granularity: rq.granularity, filter: rq.filter, keep: rq.groupBy, maxRows: max, ...range });
  return { read: rows.length, kept: rows.filter((r) => chooseSource(r.bucketStart, boundary) === 'batch') };
}

async function keptBytes(
  ctx: QueryContext,
  cache: ServingCache,
  snap: BatchSnapshot,
  view: ViewDef,
  rq: ResolvedQuery,
  part: BatchPart,
  buckets: readonly number[],
  range: { from: number; to: number },
  keep: ReadonlySet<string>,
): Promise<Buffer> {
  const k = keepKey(keep);
  const hit = part.kept.get(k);
  if (hit) return hit;
  const { byBucket } = await batchGroups(ctx, snap, view, rq, batchRows(snap, view, rq, range, Number.MAX_SAFE_INTEGER).kept, range);
  const bytes = bucketBytes(rq, buckets, byBucket, keep);
  if (part.kept.size >= MAX_KEPT_SETS) {
    const oldest = part.kept.keys().next().value!;
    part.weight -= part.kept.get(oldest)!.length + oldest.length;
    part.kept.delete(oldest);
  }
  part.kept.set(k, bytes);
  part.weight += bytes.length + k.length;
  cache.set('batch', part.key, part, part.weight);
  return bytes;
}
