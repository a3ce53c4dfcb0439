/**
 * "Unique over the range" (issue 16): for a distinct measure, one figure above the chart, the
 * distinct count over the whole range the chart shows, from the API's totals (not the sum of the
 * bars: a visitor in several buckets is one visitor). It says whether the number is exact (one
 * batch bucket row answers it) or an estimate (a union of the batch run's HyperLogLog sketches and
 * the speed layer's, with Redis's standard error), and which layers it came from. Pure (no DOM),
 * so it is unit-tested beside the API's answers; unique-figure-view.ts draws it.
 */
import type { TotalsAnswer } from './api.js';

export type Exactness = 'exact' | 'approximate' | 'unavailable';

export interface UniqueFigure {
  value: number | null;
  exactness: Exactness;
  /** relative standard error of an estimate (0.0081...), else null */
  standardError: number | null;
  /** the sentence under the number: how it was computed, from which layers */
  how: string;
}

/** What the totals answer (groupBy none, one measure) says about the distinct measure `measure`. */
export function describeUnique(answer: TotalsAnswer, measure: string): UniqueFigure {
  const total = answer.totals[0];
  const layers = [
    answer.sources.batchBuckets > 0 ? `${answer.sources.batchBuckets} batch bucket(s) of run ${answer.batch?.runId ?? '?'}` : null,
    answer.sources.speedBuckets > 0 ? `${answer.sources.speedBuckets} speed bucket(s) from Redis` : null,
  ]
    .filter((x) => x !== null)
    .join(' and ');
  const reason = answer.unavailable[measure];
  if (reason !== undefined) return { value: null, exactness: 'unavailable', standardError: null, how: reason };
  if (total === undefined) return { value: 0, exactness: 'exact', standardError: null, how: 'no event in the range' };
  const value = total.values[measure] ?? null;
  if (total.approximate?.includes(measure)) {
    const se = answer.standardError[measure] ?? null;
    return {
      value,
      exactness: 'approximate',
      standardError: se,
      how: `HyperLogLog estimate${se === null ? '' : ` (standard error ${(se * 100).toFixed(2)}%)`}: the union of the sketches of ${layers}`,
    };
  }
  return { value, exactness: 'exact', standardError: null, how: `exact count of one stored group: ${layers}` };
}
