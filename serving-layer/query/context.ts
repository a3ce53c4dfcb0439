/**
 * What the serving layer reads from: the ports of the two view stores, plus the few facts it
 * needs to judge completeness. Wired by the CLI; the serving layer never imports another layer.
 */
import type { ViewSet, ViewDef } from '../../shared/views/definition.js';
import type { BatchViewStore, BucketRow, LateClassEvent, SeriesQuery, SpeedViewStore } from '../../shared/ports.js';
import type { Granularity } from '../../shared/time.js';
import { LambdaError } from '../../shared/errors.js';

/** A speed bucket row plus the counters the speed layer keeps for the drift report (docs/design-decisions.md §6). */
export interface SpeedRowWithCounters extends BucketRow {
  /** events applied to this bucket after it was already behind the published batch watermark */
  late: number;
  /** events applied although their id had been seen (only when speed dedupe is off) */
  duplicates: number;
  /** events applied without a dedupe check (past the dedupe window) */
  unchecked: number;
}

export interface SpeedReadModel extends SpeedViewStore {
  seriesWithCounters(q: SeriesQuery): Promise<SpeedRowWithCounters[]>;
  /** late-class events of the range past `through` of their partition: what a run that read up to it lacks */
  lateClassAfter(q: SeriesQuery, through: Readonly<Record<string, number>>): Promise<LateClassEvent[]>;
  /** per dimension tuple, a distinct measure unioned over every bucket of the range (HyperLogLog) */
  distinctTotals(q: SeriesQuery, measure: string): Promise<{ dims: (string | null)[]; estimate: number }[]>;
  /** how long after its end a bucket of granularity g stays in the speed layer */
  retentionMs(g: Granularity): number;
}

export interface QueryContext {
  /** most rows (bucket x group) one answer may read; default MAX_ANSWER_ROWS (limits.ts) */
  maxAnswerRows?: number;
  views: ViewSet;
  batch: BatchViewStore;
  speed: SpeedReadModel;
  now(): number;
}

export function viewOr404(views: ViewSet, name: string): ViewDef {
  const view = views.byName[name];
  if (!view) {
    throw new LambdaError('NOT_FOUND', `unknown view "${name}" (known: ${views.views.map((v) => v.name).join(', ')})`);
  }
  return view;
}
