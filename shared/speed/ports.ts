/**
 * The speed layer's ports (docs/design-decisions.md, "Ports"): what it needs from Redis and Kafka,
 * as interfaces the adapters implement (adapters/redis/speed-state-store.ts,
 * adapters/kafka/topic-offsets.ts) and the CLI wires (cli/speed-wiring.ts). They live in shared/
 * because adapters import no layer; the speed layer imports no adapter (.dependency-cruiser.cjs).
 */
import { LambdaError } from '../errors.js';
import type { ClaimItem, SpeedApply } from './apply.js';
import type { ControlReport, SpeedControl } from './control.js';

export interface PartitionState {
  /** next offset to apply */
  next: number;
  /** event time from which this partition's views are complete */
  coveredSince: number;
  topic: string;
}

/** Progress of one partition as the consumer last saw it (JSON in the status hash). */
export interface PartitionProgress {
  partition: number;
  next: number;
  /** partition end when last fetched; null before the first fetch */
  highWatermark: number | null;
  lag: number | null;
  /** newest event time applied (epoch ms); null before the first apply */
  maxEventTs: number | null;
  updatedAt: number;
  /** which consumer wrote this (host, pid and a nonce) */
  instance: string;
}

/**
 * The speed layer found its partition's stored offset behind what it had applied itself: Redis
 * lost acknowledged writes (a Cluster failover, a restart from an older AOF, a restore), and the
 * records in between are applied again from Kafka (their lost effects went with the offset).
 */
export interface ReplayRecord {
  partition: number;
  /** the offset Redis held: the replay starts here */
  from: number;
  /** the offset this consumer had applied up to (exclusive) */
  to: number;
  /** to - from: records applied again */
  records: number;
  /** when the consumer noticed (epoch ms) */
  detectedAt: number;
  /** the consumer that noticed */
  instance: string;
  /** what noticed: the periodic check of the stored offsets, or a fetch that found Redis behind */
  detectedBy: 'audit' | 'fetch';
}

/** A partition's progress with the runtime control its consumer obeys (absent in reports of older versions). */
export type PartitionReport = PartitionProgress & Partial<ControlReport>;

export type ApplyOutcome =
  | { applied: true; expiredGroups: number }
  /** the stored offset moved since planning (replay, zombie, Redis rollback), or no state of this layout */
  | { applied: false; storedNext: number | null };

/**
 * The speed layer's write side (per-partition state, dedupe claims, the atomic apply, the status
 * the serving layer reads). Failures are classified LambdaErrors (retriable when the store is
 * unreachable), so the caller's retry loop can decide.
 */
export interface SpeedStateStore {
  /**
   * Creates the partition's state if absent, or replaces one written by another key layout (its
   * views are then rebuilt from Kafka), and returns what is stored and whether this call created it.
   */
  initPartition(
    topic: string,
    partition: number,
    initial: { next: number; coveredSince: number },
  ): Promise<PartitionState & { created: boolean; previousLayout: string | null }>;
  /** Lists the partition in the registry readers merge over (idempotent; done on every assignment). */
  registerPartition(partition: number): Promise<void>;
  /** The stored state, or null when there is none of this layout version. */
  readPartition(partition: number): Promise<PartitionState | null>;
  /**
   * The partition's state, the published batch watermark W (null before the first run) and the
   * runtime control (shared/speed/control.ts), in one round trip.
   */
  readStateAndWatermark(partition: number): Promise<{ state: PartitionState | null; watermark: number | null; control: SpeedControl }>;
  /** The runtime control alone (the status tick: a paused consumer fetches nothing). */
  readControl(): Promise<SpeedControl>;
  /** Claims each item's event id for (partition, offset), across partitions: per item CLAIM_OWNED or CLAIM_DUPLICATE. */
  claim(partition: number, items: readonly ClaimItem[]): Promise<Uint8Array>;
  /** The increments, counters, totals and new offset in one atomic step, or nothing if the stored offset moved. */
  apply(a: SpeedApply): Promise<ApplyOutcome>;
  writeStatus(progress: readonly PartitionReport[], topicPartitions: number | null): Promise<void>;
  /** Keeps a replay for the status page (the last few, newest first). */
  recordReplay(replay: ReplayRecord): Promise<void>;
}

/** The offsets of the event log the speed layer positions itself by (Kafka's admin API). */
export interface TopicOffsets {
  /** creates the topics that do not exist yet */
  ensureTopics(topics: readonly { topic: string; partitions: number }[]): Promise<void>;
  /** per partition, the offset the next record will get */
  endOffsets(topic: string): Promise<Map<number, number>>;
  /** per partition, the first offset the log still holds (retention) */
  logStartOffsets(topic: string): Promise<Map<number, number>>;
  /** per partition, the first offset whose record timestamp is at or after `ts` */
  offsetsForTime(topic: string, ts: number): Promise<Map<number, number>>;
}

/** A store that holds the views of another topic under this key prefix is a configuration error, not data to mix. */
export function assertStateTopic(state: PartitionState, topic: string, prefix: string): void {
  if (state.topic !== topic) {
    throw new LambdaError(
      'CONFIG_INVALID',
      `Redis key prefix "${prefix}" already holds speed views of topic "${state.topic}", not "${topic}": use another LAMBDA_KEY_PREFIX`,
    );
  }
}
