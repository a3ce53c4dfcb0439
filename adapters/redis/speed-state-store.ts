/**
 * The speed layer's write side in Redis: per-partition state (next offset, coveredSince, layout),
 * dedupe claims, the atomic apply of a pre-aggregated batch, the batch watermark and the status
 * the serving layer reads. Every method turns Redis failures into classified LambdaErrors
 * (retriable when Redis is unreachable), so the caller's retry loop can decide.
 *
 * Redis calls per fetched batch of one partition (docs/design-decisions.md, "Speed layer"): one
 * pipelined read of the state, W and the runtime control (three commands, one round trip), one
 * claim script per event hour in the batch (usually one),
 * one PFADD script per HLL slot touched (a few), and one apply script: independent of the number
 * of events, which only lengthens the arguments. On a Redis Cluster, plus one WAIT per other
 * master the claims went to (before planning with them) and one per other master the PFADDs went
 * to (before the apply): replication.ts.
 */
import { LambdaError } from '../../shared/errors.js';
import { HOUR_MS } from '../../shared/time.js';
import { CLAIM_DUPLICATE, CLAIM_OWNED, claimHourEnd, type ClaimItem, type SpeedApply } from '../../shared/speed/apply.js';
import { redisCall } from './client.js';
import { encodeApply } from './apply-ops.js';
import {
  LAYOUT_VERSION,
  TOPIC_PARTITIONS_FIELD,
  batchWatermarkKey,
  claimHashKey,
  claimHour,
  KEPT_REPLAYS,
  partitionStateKey,
  speedPartitionsKey,
  speedReplaysKey,
  speedStatusField,
  speedStatusKey,
  speedControlKey,
} from './keys.js';
import { parseControl, readSpeedControl } from './speed-control.js';
import type { SpeedControl } from '../../shared/speed/control.js';
import type { RetentionPolicy } from '../../shared/speed/retention.js';
import { loadScripts, type RedisClient, type SpeedScripts } from './scripts.js';
import { ReplicaConfirm } from './replication.js';
import {
  assertStateTopic,
  type ApplyOutcome,
  type PartitionProgress,
  type PartitionReport,
  type PartitionState,
  type ReplayRecord,
  type SpeedStateStore,
} from '../../shared/speed/ports.js';

// The port's types, for the other Redis modules that read what this store writes.
export type { ApplyOutcome, PartitionProgress, PartitionReport, PartitionState };

/** Slack past the dedupe window before a claim hash expires: a consumer lagging less still finds it. */
export const CLAIM_EXPIRY_SLACK_MS = HOUR_MS;

/** The speed layer's SpeedStateStore port on Redis. */
export class RedisSpeedStateStore implements SpeedStateStore {
  private readonly scripts: SpeedScripts;
  /** WAITs for a replica's copy of the writes outside the partition's slot (Cluster only) */
  readonly replicas: ReplicaConfirm;

  /**
   * `opts.replicaWaitMs`: on a Redis Cluster, how long a master may take to pass the claims and
   * HLL adds of a batch to a replica before the batch is retried (LAMBDA_SPEED_REPLICA_WAIT_MS);
   * 0 (the default here, the CLI passes the setting) waits for nothing.
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly retention: RetentionPolicy,
    private readonly dedupeWindowMs: number,
    opts: { replicaWaitMs?: number } = {},
  ) {
    this.scripts = loadScripts(redis);
    this.replicas = new ReplicaConfirm(redis, opts.replicaWaitMs ?? 0);
  }

  /**
   * Creates the partition's state if absent, or replaces one written by another key layout (its
   * views are then rebuilt from Kafka), and returns what is stored and whether this call created it.
   */
  async initPartition(
    topic: string,
    partition: number,
    initial: { next: number; coveredSince: number },
  ): Promise<PartitionState & { created: boolean; previousLayout: string | null }> {
    return redisCall('init partition', async () => {
      // Registry first: a reader may then list a partition without state (reported as not
      // covered), never the reverse.
      await this.registerPartition(partition);
      const [next, coveredSince, storedTopic, created, previous] = await this.scripts.initPartition(partitionStateKey(this.prefix, partition), [
        topic,
        String(initial.next),
        String(initial.coveredSince),
        String(Date.now()),
        String(LAYOUT_VERSION),
      ]);
      const state = parseState(next, coveredSince, storedTopic, String(LAYOUT_VERSION));
      if (state === null) throw new LambdaError('INTERNAL', `partition ${partition} state missing right after init`);
      assertStateTopic(state, topic, this.prefix);
      return { ...state, created: Number(created) === 1, previousLayout: previous === '' ? null : String(previous) };
    });
  }

  /** Lists the partition in the registry readers merge over (idempotent; done on every assignment). */
  async registerPartition(partition: number): Promise<void> {
    await redisCall('register partition', () => this.redis.sadd(speedPartitionsKey(this.prefix), String(partition)));
  }

  /** The stored state, or null when there is none of this layout version. */
  async readPartition(partition: number): Promise<PartitionState | null> {
    return redisCall('read partition', async () => {
      const [next, coveredSince, topic, layout] = await this.redis.hmget(partitionStateKey(this.prefix, partition), 'next', 'coveredSince', 'topic', 'layout');
      return parseState(next ?? null, coveredSince ?? null, topic ?? null, layout ?? null);
    });
  }

  /**
   * The partition's state, the published W and the runtime control, in one round trip: three
   * commands issued in the same tick, which the client's auto-pipelining sends in one write (not an
   * explicit pipeline: the keys live in different hash slots, which a Redis Cluster pipeline may
   * not mix; there the client sends them in parallel).
   */
  async readStateAndWatermark(partition: number): Promise<{ state: PartitionState | null; watermark: number | null; control: SpeedControl }> {
    return redisCall('read partition state', async () => {
      const [fields, w, control] = await Promise.all([
        this.redis.hmget(partitionStateKey(this.prefix, partition), 'next', 'coveredSince', 'topic', 'layout'),
        this.redis.get(batchWatermarkKey(this.prefix)),
        this.redis.hgetall(speedControlKey(this.prefix)),
      ]);
      const [next, coveredSince, topic, layout] = fields;
      return {
        state: parseState(next ?? null, coveredSince ?? null, topic ?? null, layout ?? null),
        watermark: parseWatermark(w),
        control: parseControl(control),
      };
    });
  }

  readControl(): Promise<SpeedControl> {
    return readSpeedControl(this.redis, this.prefix);
  }

  /**
   * Claims each item's event id for (partition, offset), across partitions: per item CLAIM_OWNED
   * (first copy, or a replay of it) or CLAIM_DUPLICATE. One script call per event hour, in parallel.
   */
  async claim(partition: number, items: readonly ClaimItem[]): Promise<Uint8Array> {
    const out = new Uint8Array(items.length);
    if (items.length === 0) return out;
    const byHour = new Map<number, number[]>();
    items.forEach((it, i) => {
      const h = claimHour(it.ts);
      const list = byHour.get(h);
      if (list === undefined) byHour.set(h, [i]);
      else list.push(i);
    });
    await redisCall('claim event ids', () =>
      Promise.all(
        [...byHour].map(async ([hour, idx]) => {
          const args: string[] = [String(claimHourEnd(hour) + this.dedupeWindowMs + CLAIM_EXPIRY_SLACK_MS), String(partition)];
          for (const i of idx) {
            const it = items[i] as ClaimItem;
            args.push(String(it.offset), it.id);
          }
          const answer = await this.scripts.claimIds(claimHashKey(this.prefix, hour), args);
          if (answer.length !== idx.length) throw new LambdaError('INTERNAL', `claim script answered ${answer.length} of ${idx.length} ids`);
          idx.forEach((i, k) => {
            out[i] = answer.charCodeAt(k) === 49 /* '1' */ ? CLAIM_DUPLICATE : CLAIM_OWNED;
          });
        }),
      ),
    );
    // The answers are planned with: on a Cluster, only once a replica has the claims (a failover
    // after this would otherwise forget them, and a later copy of an id would count again).
    await redisCall('confirm claims on a replica', () =>
      this.replicas.confirm(
        partitionStateKey(this.prefix, partition),
        [...byHour.keys()].map((h) => claimHashKey(this.prefix, h)),
      ),
    );
    return out;
  }

  /**
   * The distinct members (idempotent PFADDs, outside the atomic step: a replay adds nothing), on a
   * Cluster confirmed on a replica (replication.ts), then one atomic
   * script: the increments, the counters, the totals and the new offset, or nothing.
   */
  async apply(a: SpeedApply): Promise<ApplyOutcome> {
    const encoded = encodeApply(this.prefix, a, this.retention);
    const [status, detail] = await redisCall('apply batch', async () => {
      await Promise.all(encoded.hll.map((c) => this.scripts.hllAdd(c.keys, c.args)));
      // One key per HLL call is enough: a call's keys share a slot. A failed confirmation fails
      // the apply, whose retry sends the PFADDs again (idempotent) before confirming again.
      await this.replicas.confirm(
        partitionStateKey(this.prefix, a.partition),
        encoded.hll.map((c) => c.keys[0] as string),
      );
      return this.scripts.applyBatch(encoded.keys, encoded.args);
    });
    if (status === 1) return { applied: true, expiredGroups: encoded.expiredGroups };
    return { applied: false, storedNext: status === 0 ? Number(detail) : null };
  }

  /** W of the published batch run, or null before the first run. */
  async readBatchWatermark(): Promise<number | null> {
    return redisCall('read batch watermark', async () => parseWatermark(await this.redis.get(batchWatermarkKey(this.prefix))));
  }

  async writeStatus(progress: readonly PartitionReport[], topicPartitions: number | null): Promise<void> {
    const fields: string[] = [];
    for (const p of progress) fields.push(speedStatusField(p.partition), JSON.stringify(p));
    if (topicPartitions !== null) fields.push(TOPIC_PARTITIONS_FIELD, String(topicPartitions));
    if (fields.length === 0) return;
    await redisCall('write status', () => this.redis.hset(speedStatusKey(this.prefix), ...fields));
  }

  /** One key (one slot): the push and the trim in one transaction. */
  async recordReplay(replay: ReplayRecord): Promise<void> {
    const key = speedReplaysKey(this.prefix);
    await redisCall('record replay', () =>
      this.redis
        .multi()
        .lpush(key, JSON.stringify(replay))
        .ltrim(key, 0, KEPT_REPLAYS - 1)
        .exec(),
    );
  }
}

/**
 * For the batch layer's publisher: makes W visible to the speed layer (late-arrival counts). W only
 * rises: a publisher of an older run (another process, a slow one) never takes it back. Returns
 * the W stored afterwards.
 */
export async function publishBatchWatermark(redis: RedisClient, prefix: string, watermark: number): Promise<number> {
  if (!Number.isSafeInteger(watermark) || watermark < 0) throw new LambdaError('VALIDATION', `watermark must be epoch ms, got ${watermark}`);
  const stored = await redisCall('publish batch watermark', () => loadScripts(redis).raiseWatermark(batchWatermarkKey(prefix), watermark));
  return Number(stored);
}

export function parseWatermark(raw: string | null): number | null {
  if (raw === null) return null;
  const w = Number(raw);
  return Number.isSafeInteger(w) ? w : null;
}

function parseState(next: string | null, coveredSince: string | null, topic: string | null, layout: string | null): PartitionState | null {
  if (next === null || layout !== String(LAYOUT_VERSION)) return null;
  return { next: Number(next), coveredSince: Number(coveredSince ?? 0), topic: topic ?? '' };
}
