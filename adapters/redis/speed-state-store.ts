/**
 * The speed layer's write side in Redis: per-partition state (next offset, coveredSince), the
 * atomic apply of a pre-aggregated batch, dedupe look-ups, the batch watermark and the status
 * the serving layer reads. Every method turns Redis failures into classified LambdaErrors
 * (retriable when Redis is unreachable), so the caller's retry loop can decide.
 */
import { LambdaError } from '../../shared/errors.js';
import { redisCall } from './client.js';
import { encodeApply, type SpeedApply } from './apply-ops.js';
import {
  TOPIC_PARTITIONS_FIELD,
  batchWatermarkKey,
  partitionStateKey,
  seenKey,
  speedPartitionsKey,
  speedStatusField,
  speedStatusKey,
} from './keys.js';
import type { RetentionPolicy } from './retention.js';
import { loadScripts, type RedisClient, type SpeedScripts } from './scripts.js';

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
  /** which consumer wrote this (client id and pid) */
  instance: string;
}

export type ApplyOutcome =
  | { applied: true; expiredGroups: number }
  /** the stored offset moved since planning (replay, zombie, Redis rollback), or no state yet */
  | { applied: false; storedNext: number | null };

export class RedisSpeedStateStore {
  private readonly scripts: SpeedScripts;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly retention: RetentionPolicy,
    private readonly dedupeTtlSeconds: number,
  ) {
    this.scripts = loadScripts(redis);
  }

  /** Creates the partition's state if absent (first start) and returns what is stored, and whether this call created it. */
  async initPartition(topic: string, partition: number, initial: { next: number; coveredSince: number }): Promise<PartitionState & { created: boolean }> {
    return redisCall('init partition', async () => {
      // Registry first: a reader may then list a partition without state (reported as not
      // covered), never the reverse.
      await this.registerPartition(partition);
      const raw = await this.scripts.initPartition(partitionStateKey(this.prefix, partition), [
        topic,
        String(initial.next),
        String(initial.coveredSince),
        String(Date.now()),
      ]);
      const [next, coveredSince, storedTopic, created] = raw;
      const state = parseState(next, coveredSince, storedTopic);
      if (state === null) throw new LambdaError('INTERNAL', `partition ${partition} state missing right after init`);
      assertStateTopic(state, topic, this.prefix);
      return { ...state, created: Number(created) === 1 };
    });
  }

  /** Lists the partition in the registry readers merge over (idempotent; done on every assignment). */
  async registerPartition(partition: number): Promise<void> {
    await redisCall('register partition', () => this.redis.sadd(speedPartitionsKey(this.prefix), String(partition)));
  }

  async readPartition(partition: number): Promise<PartitionState | null> {
    return redisCall('read partition', async () => {
      const [next, coveredSince, topic] = await this.redis.hmget(partitionStateKey(this.prefix, partition), 'next', 'coveredSince', 'topic');
      return parseState(next ?? null, coveredSince ?? null, topic ?? null);
    });
  }

  /** The stored state and, per id, whether it was seen before (one round trip, one slot). */
  async peek(partition: number, ids: readonly string[]): Promise<{ state: PartitionState | null; seen: boolean[] }> {
    return redisCall('peek', async () => {
      const pipe = this.redis.pipeline().hmget(partitionStateKey(this.prefix, partition), 'next', 'coveredSince', 'topic');
      if (ids.length > 0) pipe.mget(ids.map((id) => seenKey(this.prefix, partition, id)));
      const replies = (await pipe.exec()) ?? [];
      for (const [err] of replies) if (err) throw err;
      const [next, coveredSince, topic] = (replies[0]?.[1] ?? []) as (string | null)[];
      const seen = ids.length > 0 ? ((replies[1]?.[1] ?? []) as (string | null)[]).map((v) => v !== null) : [];
      return { state: parseState(next ?? null, coveredSince ?? null, topic ?? null), seen };
    });
  }

  /** One atomic Lua call: the increments, the dedupe markers and the new offset, or nothing. */
  async apply(a: SpeedApply): Promise<ApplyOutcome> {
    const encoded = encodeApply(this.prefix, a, this.retention, this.dedupeTtlSeconds);
    const [status, stored] = await redisCall('apply batch', () => this.scripts.applyBatch(encoded.keys, encoded.args));
    if (status === 1) return { applied: true, expiredGroups: encoded.expiredGroups };
    return { applied: false, storedNext: status === 0 ? Number(stored) : null };
  }

  /** W of the published batch run, or null before the first run. */
  async readBatchWatermark(): Promise<number | null> {
    return redisCall('read batch watermark', async () => parseWatermark(await this.redis.get(batchWatermarkKey(this.prefix))));
  }

  async writeStatus(progress: readonly PartitionProgress[], topicPartitions: number | null): Promise<void> {
    const fields: string[] = [];
    for (const p of progress) fields.push(speedStatusField(p.partition), JSON.stringify(p));
    if (topicPartitions !== null) fields.push(TOPIC_PARTITIONS_FIELD, String(topicPartitions));
    if (fields.length === 0) return;
    await redisCall('write status', () => this.redis.hset(speedStatusKey(this.prefix), ...fields));
  }
}

/** For the batch layer's publisher: makes W visible to the speed layer (late-arrival counts). */
export async function publishBatchWatermark(redis: RedisClient, prefix: string, watermark: number): Promise<void> {
  if (!Number.isSafeInteger(watermark) || watermark < 0) throw new LambdaError('VALIDATION', `watermark must be epoch ms, got ${watermark}`);
  await redisCall('publish batch watermark', () => redis.set(batchWatermarkKey(prefix), String(watermark)));
}

export function parseWatermark(raw: string | null): number | null {
  if (raw === null) return null;
  const w = Number(raw);
  return Number.isSafeInteger(w) ? w : null;
}

function parseState(next: string | null, coveredSince: string | null, topic: string | null): PartitionState | null {
  if (next === null) return null;
  return { next: Number(next), coveredSince: Number(coveredSince ?? 0), topic: topic ?? '' };
}

export function assertStateTopic(state: PartitionState, topic: string, prefix: string): void {
  if (state.topic !== topic) {
    throw new LambdaError(
      'CONFIG_INVALID',
      `Redis key prefix "${prefix}" already holds speed views of topic "${state.topic}", not "${topic}": use another LAMBDA_KEY_PREFIX`,
    );
  }
}
