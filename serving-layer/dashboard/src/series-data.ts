/**
 * Turns API answers into what the charts draw: one value per bucket for the chosen measure,
 * with the bucket's source and completeness kept next to it (every number says where it came from).
 */
import type { DriftAnswer, MeasureDef, SeriesAnswer, Source } from './api.js';
import { decimalsOf } from './format.js';

export interface BucketPoint {
  start: number;
  end: number;
  source: Source;
  complete: boolean;
  incompleteReason: string | undefined;
  value: number | null;
}

/** A bucket with no row had no events: counts and sums are 0 there, min and max have no value. */
export function emptyValue(def: MeasureDef): number | null {
  return def.type === 'min' || def.type === 'max' ? null : 0;
}

/**
 * Combines one measure over several rows with its own monoid. An exact distinct count cannot be
 * added up (a visitor may be in two rows), so several distinct rows give null, never a guess.
 */
export function combineMeasure(def: MeasureDef, values: readonly (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  switch (def.type) {
    case 'count':
      return present.reduce((a, b) => a + b, 0);
    case 'sum': {
      const p = 10 ** decimalsOf(def);
      return present.reduce((a, b) => a + Math.round(b * p), 0) / p;
    }
    case 'min':
      return present.length ? Math.min(...present) : null;
    case 'max':
      return present.length ? Math.max(...present) : null;
    case 'distinct':
      return values.length === 0 ? 0 : values.length === 1 ? (values[0] ?? null) : null;
  }
}

export function bucketPoints(answer: SeriesAnswer, measure: string, def: MeasureDef): BucketPoint[] {
  return answer.buckets.map((b) => ({
    start: b.start,
    end: b.end,
    source: b.source,
    complete: b.complete,
    incompleteReason: b.incompleteReason,
    value:
      b.groups.length === 0
        ? emptyValue(def)
        : combineMeasure(
            def,
            b.groups.map((g) => g.values[measure] ?? null),
          ),
  }));
}

export interface DriftPoint {
  start: number;
  end: number;
  batch: number | null;
  speed: number | null;
  late: number;
  duplicates: number;
}

/** Batch and speed totals of one measure per compared bucket (over the rows of the filter). */
export function driftPoints(answer: DriftAnswer, measure: string, def: MeasureDef): DriftPoint[] {
  return answer.buckets.map((b) => ({
    start: b.start,
    end: b.end,
    batch: combineMeasure(
      def,
      b.rows.map((r) => r.measures[measure]?.batch ?? null),
    ),
    speed: combineMeasure(
      def,
      b.rows.map((r) => r.measures[measure]?.speed ?? null),
    ),
    late: b.late,
    duplicates: b.duplicates,
  }));
}
