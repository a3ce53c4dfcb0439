/**
 * The Kappa rebuild's replay (docs/design-decisions.md, "Lambda vs Kappa"): the speed layer's own
 * code (SpeedLayer, its fetch handler, plan and apply scripts) run over the event topic from its
 * earliest retained offset into a fresh key prefix, until every partition reached the end it had
 * when the rebuild began. Only its settings differ from the live layer's:
 *
 * - its own key prefix and consumer group, so the live speed state is never touched;
 * - `LAMBDA_SPEED_COVER_FROM=earliest`: start at the log start;
 * - speed retention off (a retention of a century): otherwise buckets older than the live
 *   retention would be skipped as expired, and Kappa's answer is the whole history;
 * - dedupe on with a window of a century: the batch layer dedupes exactly over all history, and
 *   a rebuild meant to replace it must too (the claims go with the prefix afterwards);
 * - no dead letters: the live layers already sent the invalid records to the DLQ once;
 * - its own metrics registry, so the live layer's gauges are not overwritten.
 */
import { kafkaConsumerGroups } from '../../adapters/kafka/consumer-group.js';
import type { Kafka } from 'kafkajs';
import { RedisSpeedStateStore } from '../../adapters/redis/speed-state-store.js';
import type { RedisClient } from '../../adapters/redis/scripts.js';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import type { DeadLetterSink } from '../../shared/ports.js';
import type { RetentionPolicy } from '../../shared/speed/retention.js';
import type { TopicOffsets } from '../../shared/speed/ports.js';
import type { ViewSet } from '../../shared/views/definition.js';
import { SpeedLayer } from '../../speed-layer/speed-layer.js';

/** "Off": long enough that no bucket since 1970 expires (expiry stays a safe integer). */
const CENTURY_MS = 100 * 365 * 86_400_000;

/** No progress for this long fails the rebuild. */
const STALL_MS = 120_000;

export const NO_RETENTION: RetentionPolicy = { batchPeriodMs: CENTURY_MS, allowedLatenessMs: 0 };

const NO_DEAD_LETTERS: DeadLetterSink = { start: async () => undefined, send: async () => undefined, stop: async () => undefined };

export interface PartitionReplay {
  partition: number;
  logStart: number;
  target: number;
  next: number;
}

export interface ReplayDeps {
  config: Config;
  views: ViewSet;
  log: Logger;
  kafka: Kafka;
  offsets: TopicOffsets;
  redis: RedisClient;
  /** the rebuild's key prefix (keys.ts kappaPrefix) */
  prefix: string;
  groupId: string;
  onProgress(partitions: PartitionReplay[]): void;
  aborted(): boolean;
}

/** Replays every partition up to its end at the start; returns the partitions as they ended. */
export async function replayLog(d: ReplayDeps): Promise<PartitionReplay[]> {
  const topic = d.config.kafka.topic;
  // The ends first: everything below them is the history the rebuild promises to cover.
  const targets = await d.offsets.endOffsets(topic);
  const starts = await d.offsets.logStartOffsets(topic);
  const parts: PartitionReplay[] = [...targets]
    .sort(([a], [b]) => a - b)
    .map(([partition, target]) => {
      const logStart = Math.min(starts.get(partition) ?? 0, target);
      return { partition, logStart, target, next: logStart };
    });
  d.onProgress(parts);
  const config: Config = {
    ...d.config,
    redis: { ...d.config.redis, keyPrefix: d.prefix },
    speed: { ...d.config.speed, groupId: d.groupId, coverFrom: 'earliest', dedupe: true, dedupeWindowMs: CENTURY_MS },
  };
  const store = new RedisSpeedStateStore(d.redis, d.prefix, NO_RETENTION, CENTURY_MS);
  const layer = new SpeedLayer({
    config,
    views: d.views,
    log: d.log.child({ component: 'kappa-replay' }),
    metrics: createMetrics(),
    consumers: kafkaConsumerGroups(d.kafka, { log: d.log.child({ component: 'kappa-replay' }), retry: config.retry }),
    offsets: d.offsets,
    store,
    deadLetters: NO_DEAD_LETTERS,
    statusIntervalMs: 1_000,
  });
  await layer.start();
  try {
    let moved = Date.now();
    for (;;) {
      for (const p of parts) {
        if (p.next >= p.target) continue;
        const state = await store.readPartition(p.partition);
        if (state !== null && state.next > p.next) {
          p.next = state.next;
          moved = Date.now();
        }
      }
      d.onProgress(parts);
      if (parts.every((p) => p.next >= p.target)) return parts;
      if (d.aborted()) throw new Error('the rebuild was stopped (the service is shutting down)');
      // A replay that stalls (Kafka or Redis down for good) fails with a reason instead of running forever.
      if (Date.now() - moved > STALL_MS) throw new Error(`the replay applied nothing for ${STALL_MS / 1000} s (is Kafka or Redis down? see the service log)`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await layer.stop();
  }
}
