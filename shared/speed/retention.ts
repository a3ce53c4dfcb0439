/**
 * How long the speed layer keeps a bucket (docs/design-decisions.md §6): a key expires only when no query can be
 * served from it any more. A bucket is served by the speed layer while its start is at or after
 * B_g = floor_g(W); W trails the arrival clock by the allowed lateness plus up to two batch
 * periods (the run that will cover the bucket starts at most one period later and publishes at
 * most one period after that). So, counted from the bucket's END:
 *
 *   retention(g) = one bucket length + 2 x batch period + allowed lateness
 *   expireAt     = bucketStart + length(g) + retention(g)
 *
 * The extra bucket length is a margin (docs/design-decisions.md §6 states the TTL that way). Expiry is absolute (set
 * from the bucket, not from the write), so every bucket at or after B_g is whole and a late write
 * never shortens or extends a bucket's life. The batch period is the longest gap between two
 * fires of the batch cron.
 */
import { floorTo, granularityMs, type Granularity } from '../time.js';
import { maxCronIntervalMs } from '../cron-interval.js';

export interface RetentionPolicy {
  /** longest gap between two batch runs (from the batch cron), ms */
  batchPeriodMs: number;
  allowedLatenessMs: number;
}

export function retentionPolicy(config: { allowedLatenessMs: number; batch: { cron: string } }): RetentionPolicy {
  return { batchPeriodMs: maxCronIntervalMs(config.batch.cron), allowedLatenessMs: config.allowedLatenessMs };
}

/** Time a bucket of granularity g stays in Redis after its end, ms. */
export function speedRetentionMs(g: Granularity, policy: RetentionPolicy): number {
  return granularityMs(g) + 2 * policy.batchPeriodMs + policy.allowedLatenessMs;
}

/** Absolute expiry (epoch ms) of every key of one bucket. */
export function bucketExpireAtMs(bucketStart: number, g: Granularity, policy: RetentionPolicy): number {
  return bucketStart + granularityMs(g) + speedRetentionMs(g, policy);
}

/** Bucket starts at or below this have expired at `nowMs` (for trimming the bucket index). */
export function lastExpiredBucketStart(nowMs: number, g: Granularity, policy: RetentionPolicy): number {
  return nowMs - granularityMs(g) - speedRetentionMs(g, policy);
}

/**
 * Until when (epoch ms) no bucket of [from, to) can expire, for a reader at `nowMs` whose clock may
 * be up to `skewMs` apart from Redis's (which expires the keys): the first expiry that may still
 * be pending at Redis (later than nowMs - skewMs), less skewMs. At or below nowMs while an expiry
 * is that close. Infinity when every bucket of the range has expired already.
 */
export function noExpiryBefore(from: number, to: number, g: Granularity, policy: RetentionPolicy, nowMs: number, skewMs: number): number {
  const len = granularityMs(g);
  const first = floorTo(from, g);
  const firstExpiry = bucketExpireAtMs(first, g, policy);
  // Bucket k of the range (k >= 0) expires at firstExpiry + k * len: the first later than nowMs - skewMs.
  const k = Math.max(0, Math.floor((nowMs - skewMs - firstExpiry) / len) + 1);
  return first + k * len >= to ? Infinity : firstExpiry + k * len - skewMs;
}
