/**
 * The read side of the speed views (used by the serving layer, another process). Partition
 * shards are merged here: counts and sums add, min/max compare, distinct measures union the
 * per-partition HyperLogLogs (an estimate, Redis's standard error 0.81%). Values come back final:
 * sums divided by 10^decimals once, at the end.
 */
import { Cluster } from 'ioredis';
import { LambdaError } from '../../shared/errors.js';
import { unscale } from '../../shared/decimal.js';
import type { BucketRow, SeriesQuery, SpeedStatus, SpeedViewStore } from '../../shared/ports.js';
import type { Granularity } from '../../shared/time.js';
import { keepsEveryDimension, type MeasureDef, type ViewDef, type ViewSet } from '../../shared/views/definition.js';
import { getView } from '../../shared/views/load.js';
import { redisCall } from './client.js';
import {
  DUPS_FIELD,
  LATE_FIELD,
  TOPIC_PARTITIONS_FIELD,
  batchWatermarkKey,
  distinctHllKey,
  partitionStateKey,
  speedPartitionsKey,
  speedStatusField,
  speedStatusKey,
  type GroupRef,
} from './keys.js';
import { speedRetentionMs, type RetentionPolicy } from './retention.js';
import { extremeField, readGroups, sumField, unionSketches, type StoredGroup } from './speed-read.js';
import { parseWatermark, type PartitionProgress } from './speed-state-store.js';
import { loadScripts, type RedisClient, type SpeedScripts } from './scripts.js';

/** A bucket row plus what the drift report attributes differences to. */
export interface SpeedBucketRow extends BucketRow {
  /** events applied to this bucket after it was already behind the batch watermark */
  late: number;
  /** events applied although their id had been seen (only when dedupe is off) */
  duplicates: number;
}

export interface SpeedPartitionStatus {
  partition: number;
  /** next offset to apply (authoritative, from the partition state) */
  offset: number;
  lag?: number;
  highWatermark: number | null;
  coveredSince: number;
  maxEventTs: number | null;
  /** when the consumer last reported this partition (epoch ms); null if it never did */
  updatedAt: number | null;
  totals: { events: number; duplicatesSkipped: number; duplicatesApplied: number; late: number; invalid: number };
}

export interface RedisSpeedStatus extends SpeedStatus {
  partitions: SpeedPartitionStatus[];
  /** partitions of the topic as the consumer last saw them; null before the first start */
  topicPartitions: number | null;
  /** now minus the newest event time applied, ms */
  eventTimeLagMs: number | null;
}

export interface DistinctEstimate {
  dims: (string | null)[];
  estimate: number;
  /** raw Redis HLL (the union over partitions and buckets), for unions with other sketches */
  sketch: Buffer;
}

const TOTAL_FIELDS = ['events', 'duplicatesSkipped', 'duplicatesApplied', 'late', 'invalid'] as const;

export class RedisSpeedViewStore implements SpeedViewStore {
  private readonly scripts: SpeedScripts;

  constructor(
    private readonly redis: RedisClient,
    private readonly opts: { prefix: string; views: ViewSet; retention: RetentionPolicy },
  ) {
    this.scripts = loadScripts(redis);
  }

  /** How long after its end a bucket of granularity g stays readable (for "incomplete" flags). */
  retentionMs(g: Granularity): number {
    return speedRetentionMs(g, this.opts.retention);
  }

  async series(q: SeriesQuery): Promise<BucketRow[]> {
    const view = this.view(q.view);
    const groups = await readGroups(this.redis, this.opts.prefix, await this.partitions(), { ...q, view });
    const rows = await Promise.all(rollUpGroups(view, groups, q.keep).map(({ group, parts }) => this.row(view, q.granularity, group, parts)));
    return rows.map(({ late: _late, duplicates: _dups, ...row }) => row);
  }

  async seriesWithCounters(q: SeriesQuery): Promise<SpeedBucketRow[]> {
    const view = this.view(q.view);
    const groups = await readGroups(this.redis, this.opts.prefix, await this.partitions(), { ...q, view });
    return Promise.all(groups.map((g) => this.row(view, q.granularity, g)));
  }

  /** Distinct estimate and raw HLL of one group, merged over partitions; null if nothing stored. */
  async distinctSketch(ref: GroupRef, measure: string): Promise<{ estimate: number; sketch: Buffer } | null> {
    this.distinctMeasure(this.view(ref.view), measure);
    const keys = (await this.partitions()).map((p) => distinctHllKey(this.opts.prefix, p, ref, measure));
    return unionSketches(this.scripts, this.opts.prefix, await this.rawSketches(keys));
  }

  /** Per dims tuple, the union of a distinct measure over every bucket of [from, to): range totals. */
  async distinctTotals(q: SeriesQuery, measure: string): Promise<DistinctEstimate[]> {
    const view = this.view(q.view);
    this.distinctMeasure(view, measure);
    const partitions = await this.partitions();
    const groups = await readGroups(this.redis, this.opts.prefix, partitions, { ...q, view });
    const byDims = new Map<string, { dims: (string | null)[]; keys: string[] }>();
    for (const g of groups) {
      const entry = byDims.get(g.encodedDims) ?? { dims: g.dims, keys: [] };
      byDims.set(g.encodedDims, entry);
      for (const s of g.shards) entry.keys.push(distinctHllKey(this.opts.prefix, s.partition, this.ref(view, q.granularity, g), measure, g.encodedDims));
    }
    const unions = await Promise.all(
      [...byDims.values()].map(async ({ dims, keys }) => {
        const u = await unionSketches(this.scripts, this.opts.prefix, await this.rawSketches(keys));
        return u === null ? null : { dims, ...u };
      }),
    );
    return unions.filter((u): u is DistinctEstimate => u !== null);
  }

  async batchWatermark(): Promise<number | null> {
    return redisCall('read batch watermark', async () => parseWatermark(await this.redis.get(batchWatermarkKey(this.opts.prefix))));
  }

  async status(): Promise<RedisSpeedStatus> {
    const partitions = await this.partitions();
    const [statusHash, states] = await redisCall('read speed status', () =>
      Promise.all([
        this.redis.hgetall(speedStatusKey(this.opts.prefix)),
        Promise.all(partitions.map((p) => this.redis.hgetall(partitionStateKey(this.opts.prefix, p)))),
      ]),
    );
    const topicPartitions = statusHash[TOPIC_PARTITIONS_FIELD] === undefined ? null : Number(statusHash[TOPIC_PARTITIONS_FIELD]);
    const list: SpeedPartitionStatus[] = [];
    partitions.forEach((partition, i) => {
      const st = states[i] ?? {};
      if (st.next === undefined) return;
      const progress = parseProgress(statusHash[speedStatusField(partition)]);
      const offset = Number(st.next);
      const hw = progress?.highWatermark ?? null;
      const totals = Object.fromEntries(TOTAL_FIELDS.map((f) => [f, Number(st[f] ?? 0)])) as SpeedPartitionStatus['totals'];
      list.push({
        partition,
        offset,
        ...(hw === null ? {} : { lag: Math.max(0, hw - offset) }),
        highWatermark: hw,
        coveredSince: Number(st.coveredSince ?? 0),
        maxEventTs: progress?.maxEventTs ?? null,
        updatedAt: progress?.updatedAt ?? null,
        totals,
      });
    });
    const expected = topicPartitions ?? list.length;
    const complete = list.length > 0 && list.length >= expected && Array.from({ length: expected }, (_, p) => list.some((s) => s.partition === p)).every(Boolean);
    const maxEventTs = list.reduce<number | null>((m, s) => (s.maxEventTs !== null && (m === null || s.maxEventTs > m) ? s.maxEventTs : m), null);
    return {
      // Views are complete from the latest partition's coverage; unknown while a partition has none.
      coveredSince: complete ? Math.max(...list.map((s) => s.coveredSince)) : null,
      partitions: list,
      lateArrivals: list.reduce((n, s) => n + s.totals.late, 0),
      topicPartitions,
      eventTimeLagMs: maxEventTs === null ? null : Math.max(0, Date.now() - maxEventTs),
    };
  }

  private async partitions(): Promise<number[]> {
    const members = await redisCall('list partitions', () => this.redis.smembers(speedPartitionsKey(this.opts.prefix)));
    return members.map(Number).sort((a, b) => a - b);
  }

  private view(name: string): ViewDef {
    const view = getView(this.opts.views, name);
    if (view === undefined) throw new LambdaError('NOT_FOUND', `no view "${name}"`);
    return view;
  }

  private distinctMeasure(view: ViewDef, measure: string): void {
    const def = Object.hasOwn(view.measures, measure) ? view.measures[measure] : undefined;
    if (def?.type !== 'distinct') throw new LambdaError('VALIDATION', `view "${view.name}" has no distinct measure "${measure}"`);
  }

  private ref(view: ViewDef, granularity: Granularity, g: StoredGroup): GroupRef {
    return { view: view.name, granularity, bucketStart: g.bucketStart, dims: g.dims };
  }

  /**
   * Estimated size of the union of HLL shards. One PFCOUNT over all keys when they can be read
   * together (one shard, or a single Redis server); on a cluster the shards sit in different slots
   * and are unioned through scratch keys. Both merge the registers the same way: same estimate.
   */
  private async estimate(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    if (keys.length === 1 || !(this.redis instanceof Cluster)) return redisCall('PFCOUNT', () => this.redis.pfcount(...keys));
    return (await unionSketches(this.scripts, this.opts.prefix, await this.rawSketches(keys)))?.estimate ?? 0;
  }

  private async rawSketches(keys: readonly string[]): Promise<Buffer[]> {
    // One GET per key: the shards live in different slots.
    const raws = await redisCall('read HLL', () => Promise.all(keys.map((k) => this.redis.getBuffer(k))));
    return raws.filter((r): r is Buffer => r !== null);
  }

  /** `parts` > 1: `g` combines that many stored groups (see rollUpGroups); its distinct measures are then null. */
  private async row(view: ViewDef, granularity: Granularity, g: StoredGroup, parts = 1): Promise<SpeedBucketRow> {
    const values: Record<string, number | null> = {};
    for (const [name, def] of Object.entries(view.measures) as [string, MeasureDef][]) {
      switch (def.type) {
        case 'count':
          values[name] = sumField(g.shards, name);
          break;
        case 'sum':
          values[name] = unscale(sumField(g.shards, name), def.decimals);
          break;
        case 'min':
        case 'max': {
          const v = extremeField(g.shards, name, def.type);
          values[name] = v === null ? null : unscale(v, def.decimals);
          break;
        }
        case 'distinct': {
          // Exact distinct counts of different groups are not added up, and the batch layer's are
          // exact: a rolled-up distinct is null in both layers (rollup.ts reports it unavailable).
          if (parts > 1) {
            values[name] = null;
            break;
          }
          const keys = g.shards.map((s) => distinctHllKey(this.opts.prefix, s.partition, this.ref(view, granularity, g), name, g.encodedDims));
          values[name] = await this.estimate(keys);
          break;
        }
      }
    }
    return {
      view: view.name,
      granularity,
      bucketStart: g.bucketStart,
      dims: g.dims,
      values,
      late: sumField(g.shards, LATE_FIELD),
      duplicates: sumField(g.shards, DUPS_FIELD),
      ...(parts > 1 ? { parts } : {}),
    };
  }
}

/**
 * The groups of each bucket combined over the dimensions the caller drops (`keep` absent or every
 * dimension: unchanged). A combined group holds the shards of all its stored groups, so counts and
 * sums add and min/max compare over them; dropped dimensions read null.
 */
function rollUpGroups(view: ViewDef, groups: readonly StoredGroup[], keep: readonly string[] | undefined): { group: StoredGroup; parts: number }[] {
  if (keep === undefined || keepsEveryDimension(view, keep)) return groups.map((group) => ({ group, parts: 1 }));
  const kept = view.dimensions.map((d) => keep.includes(d));
  const combined = new Map<string, StoredGroup[]>();
  for (const g of groups) {
    const id = `${g.bucketStart}|${JSON.stringify(g.dims.map((v, i) => (kept[i] ? v : null)))}`;
    const list = combined.get(id);
    if (list === undefined) combined.set(id, [g]);
    else list.push(g);
  }
  return [...combined.values()].map((list) => {
    const first = list[0] as StoredGroup;
    // One stored group: unchanged (its keys name it; its distinct values stand).
    if (list.length === 1) return { group: first, parts: 1 };
    const dims = first.dims.map((v, i) => (kept[i] ? v : null));
    return { group: { bucketStart: first.bucketStart, dims, encodedDims: '', shards: list.flatMap((g) => g.shards) }, parts: list.length };
  });
}

function parseProgress(raw: string | undefined): PartitionProgress | null {
  if (raw === undefined) return null;
  try {
    return JSON.parse(raw) as PartitionProgress;
  } catch {
    return null;
  }
}
