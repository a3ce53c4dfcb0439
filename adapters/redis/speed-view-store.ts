/**
 * The read side of the speed views (used by the serving layer, another process). Partition
 * shards are merged here: counts and sums add, min/max compare. Distinct measures are one
 * HyperLogLog per group shared by all partitions (an estimate, Redis's standard error 0.81%), read
 * with one PFCOUNT script per HLL slot. Values come back final: sums divided by 10^decimals once,
 * at the end. Redis calls per series: one per partition and one per HLL slot in the range.
 */
import { LambdaError } from '../../shared/errors.js';
import { CELLS, finalizeCells, isSketched, viewCells } from '../../shared/aggregate/measure-kinds.js';
import type { BucketRow, LateClassEvent, SeriesQuery, SketchRow, SpeedRowWithCounters, SpeedViewStore } from '../../shared/ports.js';
import { floorTo, type Granularity } from '../../shared/time.js';
import { keepsEveryDimension, type ViewDef, type ViewSet } from '../../shared/views/definition.js';
import { getView } from '../../shared/views/load.js';
import { redisCall } from './client.js';
import {
  DUPS_FIELD,
  LATE_FIELD,
  UNCHECKED_FIELD,
  batchWatermarkKey,
  bucketIndexKey,
  decodeDims,
  lateClassKey,
  parseLateClassMember,
  distinctHllKey,
  hllTag,
  speedPartitionsKey,
  type GroupRef,
} from './keys.js';
import { speedRetentionMs, type RetentionPolicy } from '../../shared/speed/retention.js';
import { extremeField, readGroups, sumField, unionSketches, type StoredGroup } from './speed-read.js';
import { parseWatermark } from './speed-state-store.js';
import { readSpeedStatus, type RedisSpeedStatus } from './speed-status.js';
import { readContentCheck } from './speed-content-check.js';

export type { RedisSpeedStatus, SpeedPartitionStatus } from './speed-status.js';
import { loadScripts, type RedisClient, type SpeedScripts } from './scripts.js';

/** keys per MGET of HLLs (one slot each) */
const MGET_CHUNK = 512;

export interface DistinctEstimate {
  dims: (string | null)[];
  estimate: number;
  /** raw Redis HLL (the union over partitions and buckets), for unions with other sketches */
  sketch: Buffer;
}

export class RedisSpeedViewStore implements SpeedViewStore {
  private readonly scripts: SpeedScripts;

  constructor(
    private readonly redis: RedisClient,
    private readonly opts: { prefix: string; views: ViewSet; retention: RetentionPolicy; statusStaleMs?: number },
  ) {
    this.scripts = loadScripts(redis);
  }

  /** How long after its end a bucket of granularity g stays readable (for "incomplete" flags). */
  retentionMs(g: Granularity): number {
    return speedRetentionMs(g, this.opts.retention);
  }

  /** A cheap fingerprint of the range's content (speed-content-check.ts). */
  async contentCheck(q: SeriesQuery): Promise<{ token: string; validUntil: number }> {
    return readContentCheck(this.redis, this.opts.prefix, await this.partitions(), q, this.opts.retention);
  }

  async series(q: SeriesQuery): Promise<BucketRow[]> {
    const view = this.view(q.view);
    const groups = await readGroups(this.scripts, this.opts.prefix, await this.partitions(), { ...q, view });
    const rolled = rollUpGroups(view, groups, q.keep);
    const distinct = await this.distinctOf(
      view,
      q.granularity,
      rolled.filter((r) => r.parts === 1).map((r) => r.group),
    );
    return rolled.map(({ group, parts }) => {
      const { late: _late, duplicates: _dups, unchecked: _unchecked, ...row } = this.row(view, q.granularity, group, distinct, parts);
      return row;
    });
  }

  async seriesWithCounters(q: SeriesQuery): Promise<SpeedRowWithCounters[]> {
    const view = this.view(q.view);
    const groups = await readGroups(this.scripts, this.opts.prefix, await this.partitions(), { ...q, view });
    const distinct = await this.distinctOf(view, q.granularity, groups);
    return groups.map((g) => this.row(view, q.granularity, g, distinct));
  }

  /**
   * The late-class events of a range (first copies that arrived later than the allowed lateness)
   * with an offset past `through` of their partition: the events a batch run that read up to
   * `through` cannot have. Partitions absent from `through` are not read (the run did not record
   * what it read of them). One script call per partition.
   */
  async lateClassAfter(q: SeriesQuery, through: Readonly<Record<string, number>>): Promise<LateClassEvent[]> {
    const view = this.view(q.view);
    if (q.from >= q.to) return [];
    const g = q.granularity;
    const partitions = (await this.partitions()).filter((p) => through[String(p)] !== undefined);
    const perPartition = await redisCall('read late-class events', () =>
      Promise.all(
        partitions.map((p) =>
          this.scripts.readLateClass(
            bucketIndexKey(this.opts.prefix, p, view.name, g),
            floorTo(q.from, g),
            q.to,
            lateClassKey(this.opts.prefix, p, view.name, g, 0).slice(0, -1),
            through[String(p)] as number,
          ),
        ),
      ),
    );
    const out: LateClassEvent[] = [];
    const decoded = new Map<string, (string | null)[]>();
    perPartition.forEach((flat, i) => {
      const partition = partitions[i] as number;
      for (let k = 0; k + 1 < flat.length; k += 2) {
        const bucketStart = Number(flat[k]);
        for (const member of flat[k + 1] as string[]) {
          const m = parseLateClassMember(member);
          let dims = decoded.get(m.encodedDims);
          if (dims === undefined) {
            dims = decodeDims(m.encodedDims);
            decoded.set(m.encodedDims, dims);
          }
          if (q.filter && !Object.entries(q.filter).every(([d, want]) => dims[view.dimensions.indexOf(d)] === want)) continue;
          out.push({ bucketStart, dims, partition, offset: m.offset, arrival: m.arrival });
        }
      }
    });
    return out;
  }

  /** Distinct estimate and raw HLL of one group; null if nothing stored. */
  async distinctSketch(ref: GroupRef, measure: string): Promise<{ estimate: number; sketch: Buffer } | null> {
    this.distinctMeasure(this.view(ref.view), measure);
    const key = distinctHllKey(this.opts.prefix, ref, measure);
    const [sketch, estimate] = await redisCall('read HLL', () => Promise.all([this.redis.getBuffer(key), this.redis.pfcount(key)]));
    return sketch === null ? null : { estimate, sketch };
  }

  /** Per dims tuple, the union of a distinct measure over every bucket of [from, to): range totals. */
  async distinctTotals(q: SeriesQuery, measure: string): Promise<DistinctEstimate[]> {
    const view = this.view(q.view);
    this.distinctMeasure(view, measure);
    const groups = await readGroups(this.scripts, this.opts.prefix, await this.partitions(), { ...q, view });
    const byDims = new Map<string, { dims: (string | null)[]; keys: string[] }>();
    for (const g of groups) {
      const entry = byDims.get(g.encodedDims) ?? { dims: g.dims, keys: [] };
      byDims.set(g.encodedDims, entry);
      entry.keys.push(distinctHllKey(this.opts.prefix, this.ref(view, q.granularity, g), measure, g.encodedDims));
    }
    const unions = await Promise.all(
      [...byDims.values()].map(async ({ dims, keys }) => {
        const u = await unionSketches(this.scripts, this.opts.prefix, await this.rawSketches(keys));
        return u === null ? null : { dims, ...u };
      }),
    );
    return unions.filter((u): u is DistinctEstimate => u !== null);
  }

  /**
   * The raw HyperLogLog of distinct measure `measure` of every stored group of the query's range
   * and filter (`keep` ignored), for unions with other groups, buckets and the batch layer's
   * sketches (issue 16). One MGET per HLL slot (its keys share the slot's hash tag, so this holds
   * on a Cluster too), in chunks; a group whose key does not exist has no member and no row.
   */
  async distinctSketches(q: SeriesQuery, measure: string): Promise<SketchRow[]> {
    const view = this.view(q.view);
    this.distinctMeasure(view, measure);
    const groups = await readGroups(this.scripts, this.opts.prefix, await this.partitions(), { ...q, view });
    const bySlot = new Map<string, { keys: string[]; groups: StoredGroup[] }>();
    for (const g of groups) {
      const tag = hllTag(this.opts.prefix, view.name, q.granularity, g.bucketStart);
      let slot = bySlot.get(tag);
      if (slot === undefined) bySlot.set(tag, (slot = { keys: [], groups: [] }));
      slot.keys.push(distinctHllKey(this.opts.prefix, this.ref(view, q.granularity, g), measure, g.encodedDims));
      slot.groups.push(g);
    }
    const reads: Promise<(Buffer | null)[]>[] = [];
    const owners: StoredGroup[][] = [];
    for (const { keys, groups: gs } of bySlot.values()) {
      for (let i = 0; i < keys.length; i += MGET_CHUNK) {
        reads.push(this.redis.mgetBuffer(...keys.slice(i, i + MGET_CHUNK)));
        owners.push(gs.slice(i, i + MGET_CHUNK));
      }
    }
    const raws = await redisCall('read HLLs', () => Promise.all(reads));
    const out: SketchRow[] = [];
    raws.forEach((chunk, c) =>
      chunk.forEach((sketch, i) => {
        const g = owners[c]![i]!;
        if (sketch !== null) out.push({ bucketStart: g.bucketStart, dims: g.dims, sketch });
      }),
    );
    return out;
  }

  async batchWatermark(): Promise<number | null> {
    return redisCall('read batch watermark', async () => parseWatermark(await this.redis.get(batchWatermarkKey(this.opts.prefix))));
  }

  async status(): Promise<RedisSpeedStatus> {
    return readSpeedStatus(this.redis, this.opts.prefix, await this.partitions(), this.opts.statusStaleMs);
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
    if (def === undefined || !isSketched(def)) throw new LambdaError('VALIDATION', `view "${view.name}" has no distinct measure "${measure}"`);
  }

  private ref(view: ViewDef, granularity: Granularity, g: StoredGroup): GroupRef {
    return { view: view.name, granularity, bucketStart: g.bucketStart, dims: g.dims };
  }

  /**
   * PFCOUNT of the distinct measures of the given (not rolled-up) groups: one script call per HLL
   * slot. Keyed by HLL key; a key that does not exist counts 0 (no member was ever added).
   */
  private async distinctOf(view: ViewDef, granularity: Granularity, groups: readonly StoredGroup[]): Promise<Map<string, number>> {
    const measures = viewCells(view)
      .filter((c) => CELLS[c.kind].redisOp === 'hll')
      .map((c) => c.name);
    const out = new Map<string, number>();
    if (measures.length === 0 || groups.length === 0) return out;
    const bySlot = new Map<string, string[]>();
    for (const g of groups) {
      const tag = hllTag(this.opts.prefix, view.name, granularity, g.bucketStart);
      let keys = bySlot.get(tag);
      if (keys === undefined) {
        keys = [];
        bySlot.set(tag, keys);
      }
      for (const m of measures) keys.push(distinctHllKey(this.opts.prefix, this.ref(view, granularity, g), m, g.encodedDims));
    }
    await redisCall('PFCOUNT', () =>
      Promise.all(
        [...bySlot.values()].map(async (keys) => {
          const counts = await this.scripts.pfcountMany(
            keys,
            keys.map(() => 1),
          );
          keys.forEach((k, i) => out.set(k, counts[i] ?? 0));
        }),
      ),
    );
    return out;
  }

  private async rawSketches(keys: readonly string[]): Promise<Buffer[]> {
    // One GET per key: they may live in different slots.
    const raws = await redisCall('read HLL', () => Promise.all(keys.map((k) => this.redis.getBuffer(k))));
    return raws.filter((r): r is Buffer => r !== null);
  }

  /** `parts` > 1: `g` combines that many stored groups (see rollUpGroups); its distinct measures are then null. */
  private row(view: ViewDef, granularity: Granularity, g: StoredGroup, distinct: ReadonlyMap<string, number>, parts = 1): SpeedRowWithCounters {
    // Each cell read by its op (shared/aggregate/measure-kinds.ts); the table finalizes.
    const cells: Record<string, number | null> = {};
    for (const c of viewCells(view)) {
      const op = CELLS[c.kind].redisOp;
      if (op === 'incr') cells[c.name] = sumField(g.shards, c.name);
      else if (op === 'min' || op === 'max') cells[c.name] = extremeField(g.shards, c.name, op);
      // Exact distinct counts of different groups are not added up, and the batch layer's are
      // exact: a rolled-up distinct is null in both layers (rollup.ts reports it unavailable).
      else cells[c.name] = parts > 1 ? null : (distinct.get(distinctHllKey(this.opts.prefix, this.ref(view, granularity, g), c.name, g.encodedDims)) ?? 0);
    }
    return {
      view: view.name,
      granularity,
      bucketStart: g.bucketStart,
      dims: g.dims,
      values: finalizeCells(view, cells),
      cells,
      late: sumField(g.shards, LATE_FIELD),
      duplicates: sumField(g.shards, DUPS_FIELD),
      unchecked: sumField(g.shards, UNCHECKED_FIELD),
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
