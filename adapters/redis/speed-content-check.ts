/**
 * A cheap fingerprint of the speed views of a range (docs/design-decisions.md, "Serving cache"):
 * the partitions readers merge over, and per partition its state's next offset, creation time and
 * layout. One SMEMBERS and one HMGET per partition, against the two Lua reads of every bucket and
 * the MGET of every HLL that a reread of a 7-day range costs.
 *
 * Why it tells every change of what the reads return:
 * - bucket hashes and late-class sets change only in APPLY_BATCH_LUA, atomically with `next`;
 * - distinct members are PFADDed before that script moves `next` (speed-state-store.ts apply), so
 *   a check that finds `next` unchanged after the members landed is followed by one that does not;
 * - a state rebuilt (another layout, a Redis that lost its data, a prefix deleted) has another
 *   createdAt or none;
 * - the only change without a write is expiry, at an absolute time per bucket (shared/speed/
 *   retention.ts): `validUntil` is the range's next expiry, less a clock skew between this
 *   process and Redis.
 * It is read before the content it vouches for, so the content kept with a token is never older
 * than the token: a write between the two reads, or after them, moves `next`, and the next check
 * finds another token.
 */
import type { Granularity } from '../../shared/time.js';
import { noExpiryBefore, type RetentionPolicy } from '../../shared/speed/retention.js';
import { redisCall } from './client.js';
import { partitionStateKey } from './keys.js';
import type { RedisClient } from './scripts.js';

/** How far apart this process's clock and Redis's may be (the same machine or NTP-synchronised hosts). */
export const CLOCK_SKEW_MS = 1_000;

export async function readContentCheck(
  redis: RedisClient,
  prefix: string,
  partitions: readonly number[],
  q: { granularity: Granularity; from: number; to: number },
  retention: RetentionPolicy,
): Promise<{ token: string; validUntil: number }> {
  const now = Date.now();
  const states = await redisCall('read speed content check', () =>
    Promise.all(partitions.map((p) => redis.hmget(partitionStateKey(prefix, p), 'next', 'createdAt', 'layout'))),
  );
  return {
    token: JSON.stringify([partitions, states]),
    validUntil: noExpiryBefore(q.from, q.to, q.granularity, retention, now, CLOCK_SKEW_MS),
  };
}
