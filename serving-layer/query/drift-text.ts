/**
 * The sentences of the drift report (docs/design-decisions.md, "Drift"): what each attributed cause
 * means for the run it names, the HyperLogLog cause with the batch run's own sketch error beside
 * the speed layer's, and why a report compares nothing. Kept apart from the arithmetic in drift.ts.
 */
import type { AttributedCause } from '../../shared/drift-attribution.js';
import { HLL_STANDARD_ERROR } from '../../shared/hll/sketch.js';

/** What drift.ts reports per row and distinct measure that hllDetail reads. */
interface RowMeasures {
  measures: Record<string, { batch: number | null; batchSketch?: number | null } | undefined>;
}

/** The hll_estimate cause: the speed layer's error, and the batch run's own sketch's error in the same bucket. */
export function hllDetail(rows: readonly RowMeasures[], distinct: readonly string[]): string {
  const base = `distinct counts in the speed layer are HyperLogLog estimates (standard error ${(HLL_STANDARD_ERROR * 100).toFixed(2)}%); the batch layer counts exactly`;
  const rel: number[] = [];
  for (const r of rows) {
    for (const m of distinct) {
      const v = r.measures[m];
      if (v && v.batchSketch !== undefined && v.batchSketch !== null && v.batch !== null && v.batch > 0) rel.push(Math.abs(v.batchSketch - v.batch) / v.batch);
    }
  }
  if (rel.length === 0) return base;
  const mean = rel.reduce((a, b) => a + b, 0) / rel.length;
  return `${base}; the batch run's own sketch of these rows is off its exact count by ${(mean * 100).toFixed(2)}% on average: the same HyperLogLog error, not a bug`;
}

/** One sentence per cause, naming the run and what the number means. */
export function causeDetail(c: AttributedCause, runId: string): string {
  switch (c.cause) {
    case 'not_archived_at_snapshot':
      return `${c.events} event(s) arrived later than the allowed lateness before run ${runId} read the checkpoints, but the archiver had not made them durable yet: the run cannot have them; the next run will`;
    case 'arrived_during_batch_run':
      return `${c.events} event(s) arrived later than the allowed lateness while run ${runId} was being computed or published: after its snapshot, so it cannot have them; the next run will`;
    case 'late_arrivals':
      return `${c.events} event(s) arrived after run ${runId} was published, later than the allowed lateness: the speed layer counts them, the next batch run absorbs them`;
    case 'duplicates':
      return `speed dedupe was off: ${c.events} repeated event id(s) were counted again by the speed layer; the batch layer keeps one copy per id`;
    case 'unchecked_copies':
      return `at most ${c.events} of the speed layer's events here are copies it could not check (they arrived after the dedupe window of their event hour)`;
    case 'speed_behind_run':
      return `the speed layer has not yet applied records the batch run read (it lags or is stopped): up to ${-c.events} event(s) here are in the run only`;
    case 'unexplained':
      return `${c.events} event(s) of the count difference have no known cause: this should not happen; check the status (archive gaps, Redis evictions, a topic with CreateTime timestamps) and report it`;
  }
}

export function unexplainedWarning(events: number, hasSnapshot: boolean): string {
  return hasSnapshot
    ? `UNEXPLAINED DRIFT: ${events} event(s) of the count differences have no known cause; see the buckets' "unexplained" and /api/v1/status`
    : `${events} event(s) of the count differences are unexplained because the published run predates snapshot records (it does not say which offsets it read); the next run will`;
}

export function explainNoOverlap(boundary: number | null, coveredSince: number | null): string {
  if (boundary === null) return 'no batch run has been published yet: there is nothing to compare the speed layer with';
  if (coveredSince === null) return 'the speed layer has not recorded coveredSince yet (not started?)';
  return "no bucket in the range is held by both layers (before the batch boundary and inside the speed layer's coverage and retention)";
}
