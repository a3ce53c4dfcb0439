/**
 * Puts events into the real Redis speed views without Kafka: the speed layer's own plan (parse,
 * claim, plan) and atomic apply, called in process on one partition, as the speed layer's batch
 * handler does per fetch. For serving tests that need speed data with known contents.
 */
import type { Config } from '../../platform/config.js';
import type { RedisSpeedStateStore } from '../../adapters/redis/speed-state-store.js';
import type { ViewSet } from '../../shared/views/definition.js';
import { claimRequests, parseRecords, planBatch, resolveClaims } from '../../speed-layer/plan.js';

/**
 * Applies `values` (JSON lines) at offsets `first`.. (default 0: a fresh partition, initialised
 * here unless `init` is false) of a partition, arriving at `arrival`.
 */
export async function applyToSpeed(
  state: RedisSpeedStateStore,
  config: Config,
  views: ViewSet,
  partition: number,
  values: readonly string[],
  o: { arrival: number; coveredSince: number; now: number; first?: number; init?: boolean },
): Promise<void> {
  const first = o.first ?? 0;
  // init false: the state is there already and is applied as it is, as the fetch handler does (no registration)
  if (first === 0 && o.init !== false) await state.initPartition(config.kafka.topic, partition, { next: 0, coveredSince: o.coveredSince });
  const records = parseRecords(
    values.map((value, i) => ({ offset: first + i, key: null, value, timestamp: o.arrival })),
    views,
  );
  const req = claimRequests(records, config.speed.dedupeWindowMs);
  const claims = resolveClaims(req.flags, req.at, await state.claim(partition, req.items));
  const plan = planBatch({
    partition,
    records,
    claims,
    expectedNext: first,
    views,
    dedupe: true,
    watermark: null,
    allowedLatenessMs: 7 * 24 * 3_600_000,
    nowMs: o.now,
  });
  const outcome = await state.apply(plan.apply);
  if (!outcome.applied) throw new Error(`speed apply refused: ${JSON.stringify(outcome)}`);
}
