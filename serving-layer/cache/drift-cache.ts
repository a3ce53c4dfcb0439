/**
 * The drift report from the serving cache (docs/design-decisions.md, "Serving cache"): byte for
 * byte the report driftAnswer (query/drift.ts) computes from scratch. The speed layer is read
 * through the shared reads (fresh-reads.ts); batch-to-batch drift, a pure function of two
 * immutable runs, is computed once per pair of run ids; and the whole report is reused while it
 * was built from the same runs and the same speed reads.
 */
import type { BatchRunInfo } from '../../shared/ports.js';
import type { ViewDef } from '../../shared/views/definition.js';
import { batchToBatch, previousOf } from '../query/batch-to-batch.js';
import type { QueryContext } from '../query/context.js';
import { driftReads } from '../query/drift.js';
import type { DriftReader, SpeedRead } from '../query/drift-reader.js';
import type { ResolvedQuery } from '../query/params.js';
import { takeSnapshot } from '../query/snapshot.js';
import { PreparedJson } from '../http/prepared.js';
import type { DriftAnswer } from '../http/schemas/drift.js';
import type { RunBound, ServingCache } from './serving-cache.js';

interface DriftEntry extends RunBound {
  latest: BatchRunInfo | null;
  previous: BatchRunInfo | null;
  reads: readonly SpeedRead<unknown>[];
  body: PreparedJson<DriftAnswer>;
}

interface PairEntry extends RunBound {
  value: ReturnType<typeof batchToBatch>;
}

function cachedReader(cache: ServingCache): (ctx: QueryContext) => DriftReader {
  return (ctx) => ({
    status: () => cache.speedRead('status', () => ctx.speed.status()),
    rows: (range) => cache.speedRead(`drift-rows|${JSON.stringify(range)}`, () => ctx.speed.seriesWithCounters(range)),
    lateClass: (range, through) => cache.speedRead(`late|${JSON.stringify([range, through])}`, () => ctx.speed.lateClassAfter(range, through)),
    batchToBatch: (snap, view, rq, maxRows) => {
      const latest = snap.run;
      const previous = previousOf(snap.runs, latest);
      if (!latest || !previous) return batchToBatch(snap, view, rq, maxRows);
      const key = JSON.stringify([previous.runId, latest.runId, view.name, rq.granularity, rq.from, rq.to, rq.filter]);
      const hit = cache.get<PairEntry>('pair', key);
      if (hit) return hit.value;
      const value = batchToBatch(snap, view, rq, maxRows);
      // "unavailable" says a run was pruned mid-answer: true of this answer only, never cached.
      if (!('unavailable' in value)) cache.set('pair', key, { runIds: [previous.runId, latest.runId], value }, JSON.stringify(value).length + key.length);
      return value;
    },
  });
}

export async function cachedDriftAnswer(ctx: QueryContext, cache: ServingCache, view: ViewDef, rq: ResolvedQuery): Promise<PreparedJson<DriftAnswer>> {
  const snap = takeSnapshot(ctx.batch, 2);
  try {
    cache.keptRuns(snap.runs);
    const plan = await driftReads(ctx, snap, view, rq, cachedReader(cache)(ctx));
    const key = JSON.stringify([view.name, rq.granularity, rq.filter, rq.measures, rq.from, rq.to]);
    const latest = snap.run;
    const previous = previousOf(snap.runs, latest);
    const prior = cache.get<DriftEntry>('drift', key, (e) => e.latest === latest && e.previous === previous && sameReads(e.reads, plan.reads));
    if (prior) return prior.body;
    const body = Buffer.from(JSON.stringify(plan.compute()));
    const generations = plan.reads.map((r) => (r as { generation?: number }).generation ?? '');
    const etag = cache.etag('drift', key, latest?.runId ?? '', latest?.finishedAt ?? '', previous?.runId ?? '', previous?.finishedAt ?? '', ...generations);
    const entry: DriftEntry = {
      runIds: [latest?.runId ?? '', previous?.runId ?? ''],
      latest,
      previous,
      reads: plan.reads,
      body: new PreparedJson<DriftAnswer>(body, etag),
    };
    cache.set('drift', key, entry, body.length + key.length);
    return entry.body;
  } finally {
    snap.release();
  }
}

function sameReads(a: readonly SpeedRead<unknown>[], b: readonly SpeedRead<unknown>[]): boolean {
  return a.length === b.length && a.every((r, i) => r === b[i]);
}
