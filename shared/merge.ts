/**
 * Serving semantics (docs/design-decisions.md §7), pure: which layer answers a bucket, which
 * buckets cannot be answered completely, and how far the layers drift apart.
 */
import { floorTo, granularityMs, type Granularity } from './time.js';
import { pow10 } from './decimal.js';

export type Source = 'batch' | 'speed';

/** B_g = floor_g(W); null when no batch run has been published. */
export function servingBoundary(W: number | null, g: Granularity): number | null {
  return W === null ? null : floorTo(W, g);
}

/**
 * A bucket strictly before B_g is whole in the batch view (W is the batch's
 * complete-through point, and floor_g(W) makes the last batch bucket end at or
 * before W). Everything from B_g on, or everything when there is no batch run,
 * comes from the speed layer.
 */
export function chooseSource(bucketStart: number, boundary: number | null): Source {
  return boundary !== null && bucketStart < boundary ? 'batch' : 'speed';
}

export type IncompleteReason =
  /** speed-served bucket starting before the speed layer's coveredSince (or coverage unknown) */
  | 'speed_not_covered'
  /** speed-served bucket old enough that its Redis keys may have expired (batch too old to take over) */
  | 'speed_expired';

export interface IncompleteBucket {
  bucketStart: number;
  source: Source;
  reason: IncompleteReason;
}

export interface IncompleteOptions {
  boundary: number | null;
  /** event time from which the speed views are complete; null = unknown / never started */
  coveredSince: number | null;
  g: Granularity;
  /** speed-layer key TTL for granularity g, in ms */
  speedRetentionMs: number;
  /** wall clock; needed for the expiry check */
  now?: number;
  /**
   * When the published batch run finished. Used as a lower bound of `now` when
   * `now` is not given: a bucket already expired then is certainly expired now.
   */
  batchRunAt?: number | null;
}

/**
 * Buckets of the answer that would be silently incomplete, with the reason.
 * Batch-served buckets are never flagged here: the batch view is complete
 * before its boundary by construction (a bucket with no row simply had no
 * events). A speed-served bucket is incomplete when
 * - it starts before coveredSince (events before coveredSince were never
 *   consumed), or coverage is unknown; or
 * - its end plus the retention is already past (the TTL counts from the last
 *   write, which is at or after the bucket's end for on-time data, so this is
 *   the earliest moment the keys can be gone). That happens when the batch run
 *   is older than the speed retention (docs/design-decisions.md §7).
 */
export function incompleteBuckets(buckets: readonly number[], o: IncompleteOptions): IncompleteBucket[] {
  const clock = Math.max(o.now ?? -Infinity, o.batchRunAt ?? -Infinity);
  const out: IncompleteBucket[] = [];
  for (const b of buckets) {
    if (chooseSource(b, o.boundary) !== 'speed') continue;
    const reason = speedGap(b, { ...o, now: clock });
    if (reason !== null) out.push({ bucketStart: b, source: 'speed', reason });
  }
  return out;
}

/**
 * Whether the speed layer holds bucket `b` whole, and if not why: one rule for the series
 * (incomplete speed buckets) and the drift report (buckets it cannot compare). Not covered: it
 * starts before coveredSince, or coverage is unknown. Expired: its end plus the retention is past
 * `now` (a non-finite `now` never expires anything).
 */
export function speedGap(
  b: number,
  o: { coveredSince: number | null; g: Granularity; speedRetentionMs: number; now: number },
): 'speed_not_covered' | 'speed_expired' | null {
  if (o.coveredSince === null || b < o.coveredSince) return 'speed_not_covered';
  if (Number.isFinite(o.now) && b + granularityMs(o.g) + o.speedRetentionMs <= o.now) return 'speed_expired';
  return null;
}

export interface Drift {
  /** speed - batch (signed); null when either side is null */
  diff: number | null;
  /** |speed - batch| */
  abs: number | null;
  /** abs / |batch|; 0 when both are 0; null when batch is 0 and speed is not (undefined ratio) or a side is null */
  rel: number | null;
}

/**
 * Drift between the two layers for one bucket and measure. Pass the measure's
 * `decimals` for sum/min/max: the difference is then computed on scaled integers
 * so 19.99 vs 9.99 gives exactly 10, not 10.000000000000002.
 * (null, null) -> all zero: both agree there is no value (e.g. max of nothing).
 */
export function drift(batchValue: number | null, speedValue: number | null, decimals?: number): Drift {
  if (batchValue === null && speedValue === null) return { diff: 0, abs: 0, rel: 0 };
  if (batchValue === null || speedValue === null) return { diff: null, abs: null, rel: null };
  let diff: number;
  if (decimals === undefined || decimals === 0) {
    diff = speedValue - batchValue;
  } else {
    const p = pow10(decimals);
    diff = (Math.round(speedValue * p) - Math.round(batchValue * p)) / p;
  }
  diff = diff === 0 ? 0 : diff;
  const abs = Math.abs(diff);
  let rel: number | null;
  if (abs === 0) rel = 0;
  else if (batchValue === 0) rel = null;
  else rel = abs / Math.abs(batchValue);
  return { diff, abs, rel };
}
