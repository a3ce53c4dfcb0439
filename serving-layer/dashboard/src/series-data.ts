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

/** A bucket with no row had no events: counts and sums are 0 there, min and max have no value (the views answer's `fold`). */
export function emptyValue(def: MeasureDef): number | null {
  return def.fold.empty;
}

/**
 * Combines one measure over several rows as the views answer's `fold` says (from the measure
 * table). A measure whose values cannot be combined (an exact distinct count: a visitor may be in
 * two rows; an average) gives null for several rows, never a guess.
 */
export function combineMeasure(def: MeasureDef, values: readonly (number | null)[]): number | null {
  if (values.length <= 1) return values.length === 0 ? def.fold.empty : (values[0] ?? null);
  const present = values.filter((v): v is number => v !== null);
  switch (def.fold.combine) {
    case 'add': {
      // Exact on the measure's scale: 0.1 + 0.2 is 0.3.
      const p = 10 ** decimalsOf(def);
      return present.reduce((a, b) => a + Math.round(b * p), 0) / p;
    }
    case 'min':
      return present.length ? Math.min(...present) : null;
    case 'max':
      return present.length ? Math.max(...present) : null;
    case null:
      return null;
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
