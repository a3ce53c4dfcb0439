/**
 * What the serving layer reads from: the ports of the two view stores, plus the few facts it
 * needs to judge completeness. Wired by the CLI; the serving layer never imports another layer.
 */
import type { ViewSet, ViewDef } from '../../shared/views/definition.js';
import type { BatchViewStore, LateClassEvent, SeriesQuery, SketchRow, SpeedRowWithCounters, SpeedViewStore } from '../../shared/ports.js';
import type { Granularity } from '../../shared/time.js';
import { LambdaError } from '../../shared/errors.js';

export type { SpeedRowWithCounters };

export interface SpeedReadModel extends SpeedViewStore {
  seriesWithCounters(q: SeriesQuery): Promise<SpeedRowWithCounters[]>;
  /** late-class events of the range past `through` of their partition: what a run that read up to it lacks */
  lateClassAfter(q: SeriesQuery, through: Readonly<Record<string, number>>): Promise<LateClassEvent[]>;
  /**
   * The raw HyperLogLog (Redis bytes) of a distinct measure of every stored group of the range and
   * filter (`keep` ignored), for unions across buckets, groups and layers (query/uniques.ts)
   */
  distinctSketches(q: SeriesQuery, measure: string): Promise<SketchRow[]>;
  /**
   * A cheap fingerprint of the speed content of q's range (view, granularity, from, to): while a
   * later check gives the same token, and its clock is before `validUntil` (no bucket of the range
   * expires before then), series, seriesWithCounters and distinctSketches over the range read what
   * they read after the earlier check. The serving cache then skips the reread (cache/fresh-reads.ts).
   */
  contentCheck(q: SeriesQuery): Promise<ContentCheck>;
  /** how long after its end a bucket of granularity g stays in the speed layer */
  retentionMs(g: Granularity): number;
}

/** What SpeedReadModel.contentCheck returns. */
export interface ContentCheck {
  token: string;
  /** epoch ms (the reader's clock) from which the token may no longer tell a change */
  validUntil: number;
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
