/**
 * Why the speed layer's count of a bucket differs from the batch run's (docs/design-decisions.md,
 * "Drift"): each cause counted exactly where the service can know it, bounded where it cannot,
 * and the residual named `unexplained`, which is 0 whenever the known causes are the only ones.
 *
 * Exact, for a run R that read partition p up to offset through_p:
 * - A first copy of an event that R lacks must have arrived later than the allowed lateness (an
 *   event within it lands at or after R's boundary, given honest checkpoints on a LogAppendTime
 *   topic), so the speed layer keeps those (late-class) with their offset and arrival; the ones
 *   past through_p are exactly what R lacks, split by when they arrived:
 *     not_archived_at_snapshot  before R read the checkpoints (the archiver had not made them durable)
 *     arrived_during_batch_run  while R was being computed or published
 *     late_arrivals             after R was published (the next run absorbs them)
 * - duplicates: copies the speed layer applied although another copy of the id was applied first
 *   (dedupe off); the batch layer keeps one copy per id.
 * Bounded (the count is a most, never guessed as exact):
 * - unchecked_copies: copies applied without a dedupe check (past the window); some may be duplicates.
 * - speed_behind_run: records R read that the speed layer has not applied yet (it lags or stopped).
 * Pure: the counts come in, the attributed causes go out.
 */

export type ExactCause = 'not_archived_at_snapshot' | 'arrived_during_batch_run' | 'late_arrivals' | 'duplicates';
export type BoundedCause = 'unchecked_copies' | 'speed_behind_run';

export interface AttributedCause {
  cause: ExactCause | BoundedCause | 'unexplained';
  events: number;
  /** exact count, or at most this many (bounded causes take what is left, up to their bound) */
  exact: boolean;
}

/** When a run took its snapshot and when it was published (epoch ms). */
export interface RunTimes {
  snapshotAt: number;
  publishedAt: number;
}

/** Which exact cause explains a late-class event past the run's snapshot, by its arrival. */
export function missingFromRunCause(arrival: number, run: RunTimes): 'not_archived_at_snapshot' | 'arrived_during_batch_run' | 'late_arrivals' {
  if (arrival <= run.snapshotAt) return 'not_archived_at_snapshot';
  return arrival <= run.publishedAt ? 'arrived_during_batch_run' : 'late_arrivals';
}

export interface BucketEvidence {
  /** speed count - batch count of the bucket (the view's first count measure, all groups) */
  countDiff: number;
  /** late-class events of the bucket that the run lacks, by cause */
  missingFromRun: Partial<Record<'not_archived_at_snapshot' | 'arrived_during_batch_run' | 'late_arrivals', number>>;
  /** duplicates the speed layer applied in the bucket (dedupe off) */
  duplicates: number;
  /** copies applied without a dedupe check in the bucket */
  unchecked: number;
  /** records the run read that the speed layer has not applied (all partitions; not per bucket) */
  speedBehindRecords: number;
}

export function attributeBucket(e: BucketEvidence): AttributedCause[] {
  const causes: AttributedCause[] = [];
  const exact = (cause: ExactCause, events: number | undefined) => {
    if (events !== undefined && events > 0) causes.push({ cause, events, exact: true });
  };
  exact('not_archived_at_snapshot', e.missingFromRun.not_archived_at_snapshot);
  exact('arrived_during_batch_run', e.missingFromRun.arrived_during_batch_run);
  exact('late_arrivals', e.missingFromRun.late_arrivals);
  exact('duplicates', e.duplicates);
  let residual = e.countDiff - causes.reduce((n, c) => n + c.events, 0);
  // Unchecked copies can only add to the speed side; a speed layer behind the run only subtracts.
  if (residual > 0 && e.unchecked > 0) {
    const n = Math.min(residual, e.unchecked);
    causes.push({ cause: 'unchecked_copies', events: n, exact: false });
    residual -= n;
  }
  if (residual < 0 && e.speedBehindRecords > 0) {
    const n = Math.min(-residual, e.speedBehindRecords);
    causes.push({ cause: 'speed_behind_run', events: -n, exact: false });
    residual += n;
  }
  if (residual !== 0) causes.push({ cause: 'unexplained', events: residual, exact: false });
  return causes;
}
