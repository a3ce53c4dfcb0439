/**
 * Totals from the serving cache (docs/design-decisions.md, "Serving cache"): byte for byte the
 * answer totalsAnswer (query/totals.ts) computes from scratch, from the same two parts:
 * - the batch part (the groups folded over the batch buckets, and per distinct measure each
 *   group's batch sketches unioned), computed once per (run, view, granularity, filter, groupBy,
 *   batch range) while the run is kept: a 7-day distinct total then reads no run file and unions
 *   no batch sketch again;
 * - the speed rows and sketches from reads shared within the staleness bound (fresh-reads.ts),
 *   the same reads a series over the same range shares;
 * - the whole answer, reused while it was built from the same run and speed reads of the same
 *   content (their versions), with the same speed coverage and the same incomplete buckets: an
 *   answer depends on the status read and on when the speed layer was read only through those.
 */
import type { BatchRunInfo } from '../../shared/ports.js';
import type { ViewDef } from '../../shared/views/definition.js';
import type { QueryContext } from '../query/context.js';
import type { ResolvedQuery } from '../query/params.js';
import { takeSnapshot } from '../query/snapshot.js';
import { batchTotals, batchTotalsBytes, type BatchTotals } from '../query/totals-parts.js';
import { totalsReads, type TotalsReader } from '../query/totals.js';
import { PreparedJson } from '../http/prepared.js';
import type { TotalsAnswer } from '../http/schemas/totals.js';
import type { RunBound, ServingCache } from './serving-cache.js';

interface BatchEntry extends RunBound {
  part: BatchTotals;
}

interface TotalsEntry extends RunBound {
  run: BatchRunInfo | null;
  /** the content versions of the speed reads it was built from (cache/fresh-reads.ts) */
  versions: readonly number[];
  /** its incomplete buckets, as JSON */
  incomplete: string;
  body: PreparedJson<TotalsAnswer>;
  incompleteCount: number;
}

function cachedReader(ctx: QueryContext, cache: ServingCache): TotalsReader {
  return {
    status: () => cache.speedRead('status', () => ctx.speed.status()),
    // The keys are the series cache's (cache/series-cache.ts): a series and totals over the same range share one read.
    // Each with the range's content check, one for both: an unchanged speed layer is not read again (cache/fresh-reads.ts).
    speedRows: (q) =>
      cache.speedRead(
        JSON.stringify([q.view, q.granularity, q.filter, q.keep, q.from, q.to]),
        () => ctx.speed.series(q),
        () => ctx.speed.contentCheck(q),
        q,
      ),
    speedSketches: (q, measures) =>
      cache.speedRead(
        JSON.stringify(['sketches', q.view, q.granularity, q.filter, measures, q.from, q.to]),
        async () => new Map(await Promise.all(measures.map(async (m) => [m, await ctx.speed.distinctSketches(q, m)] as const))),
        () => ctx.speed.contentCheck(q),
        q,
      ),
    batch: (snap, view, rq, plan) => {
      const run = plan.run!;
      const key = JSON.stringify(['totals', run.runId, view.name, rq.granularity, rq.filter, rq.groupBy, plan.batchRange?.from, plan.batchRange?.to]);
      const hit = cache.get<BatchEntry>('batch', key);
      if (hit) return hit.part;
      const part = batchTotals(snap, view, rq, plan);
      const entry: BatchEntry = { runIds: [run.runId], part };
      // Kept at once (answers waiting on the same speed read go on one after another, synchronously:
      // they must find it); the unions are read when an answer first needs them, and weighed then.
      cache.set('batch', key, entry, part.groups.size * 200 + key.length);
      part.onUnions = () => void batchTotalsBytes(part).then((bytes) => cache.set('batch', key, entry, bytes + key.length));
      return part;
    },
  };
}

export async function cachedTotalsAnswer(
  ctx: QueryContext,
  cache: ServingCache,
  view: ViewDef,
  rq: ResolvedQuery,
): Promise<{ body: PreparedJson<TotalsAnswer>; incompleteCount: number }> {
  const snap = takeSnapshot(ctx.batch, 1);
  try {
    cache.keptRuns(snap.runs);
    const t = await totalsReads(ctx, snap, view, rq, cachedReader(ctx, cache));
    const run = t.plan.run;
    const key = JSON.stringify(['totals', view.name, rq.granularity, rq.filter, rq.groupBy, rq.measures, rq.from, rq.to, rq.limit]);
    // Reused while built from the same run, reads of the same content, the same coverage and the
    // same incomplete buckets: with an idle speed layer, every refresh of its reads finds the answer
    // still true (the status read changes with every refresh; only its coverage is in the answer).
    const versions = [t.coveredSince ?? -1, ...t.reads.map((r) => (r as { version?: number }).version ?? -1)];
    const incomplete = JSON.stringify(t.incomplete());
    const prior = cache.get<TotalsEntry>(
      'answer',
      key,
      (e) => e.run === run && e.incomplete === incomplete && e.versions.length === versions.length && e.versions.every((v, i) => v === versions[i]),
    );
    if (prior) return prior;
    return await cache.computeOnce(`totals|${key}`, [run, incomplete, ...versions], async () => {
      const { answer, incompleteCount } = await t.compute();
      const body = Buffer.from(JSON.stringify(answer));
      const etag = cache.etag('totals', key, run?.runId ?? '', run?.startedAt ?? '', run?.finishedAt ?? '', incomplete, ...versions);
      const entry: TotalsEntry = {
        runIds: run ? [run.runId] : [],
        run,
        versions,
        incomplete,
        body: new PreparedJson<TotalsAnswer>(body, etag),
        incompleteCount,
      };
      cache.set('answer', key, entry, body.length + key.length);
      return entry;
    });
  } finally {
    snap.release();
  }
}
