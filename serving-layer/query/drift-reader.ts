/**
 * How the drift report reads the speed layer (docs/design-decisions.md, "Serving cache"): directly,
 * every read made when asked for (the oracle), or through the serving cache's shared reads
 * (cache/drift-cache.ts). The totals answer reads through the same SpeedRead shape.
 */
import type { BatchSnapshot, LateClassEvent, SeriesQuery, SpeedStatus } from '../../shared/ports.js';
import type { ViewDef } from '../../shared/views/definition.js';
import { batchToBatch } from './batch-to-batch.js';
import type { QueryContext, SpeedRowWithCounters } from './context.js';
import type { ResolvedQuery } from './params.js';

export interface SpeedRead<T> {
  value: T;
  readAt: number;
}

/** How the drift report reads the speed layer: directly (the oracle), or through the serving cache's shared reads. */
export interface DriftReader {
  status(): Promise<SpeedRead<SpeedStatus>>;
  rows(range: SeriesQuery): Promise<SpeedRead<SpeedRowWithCounters[]>>;
  lateClass(range: SeriesQuery, through: Readonly<Record<string, number>>): Promise<SpeedRead<LateClassEvent[]>>;
  /** batch-to-batch drift of the snapshot's runs (a pure function of the two runs and the query) */
  batchToBatch(snap: BatchSnapshot, view: ViewDef, rq: ResolvedQuery, maxRows: number): ReturnType<typeof batchToBatch>;
}

/** One speed read made now, stamped with when it started (what the serving cache's shared reads stand in for). */
export function readNow(ctx: Pick<QueryContext, 'now'>): <T>(load: () => Promise<T>) => Promise<SpeedRead<T>> {
  return async (load) => {
    const readAt = ctx.now();
    return { value: await load(), readAt };
  };
}

/** Every read made when it is asked for: what the serving cache must equal. */
export function directReader(ctx: QueryContext): DriftReader {
  const read = readNow(ctx);
  return {
    status: () => read(() => ctx.speed.status()),
    rows: (range) => read(() => ctx.speed.seriesWithCounters(range)),
    lateClass: (range, through) => read(() => ctx.speed.lateClassAfter(range, through)),
    batchToBatch,
  };
}
