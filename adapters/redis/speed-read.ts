/**
 * Finding the stored groups of a query without scanning the keyspace: per partition shard, the
 * bucket index (a sorted set of bucket starts) gives the buckets in range, the dims index (a set
 * per bucket) gives their groups, and one HGETALL per group reads the fields. Three pipelined
 * round trips per shard, each pipeline within one slot; shards are read in parallel.
 */
import { randomBytes } from 'node:crypto';
import { LambdaError } from '../../shared/errors.js';
import { floorTo, type Granularity } from '../../shared/time.js';
import type { ViewDef } from '../../shared/views/definition.js';
import { redisCall } from './client.js';
import { bucketIndexKey, decodeDims, dimsIndexKey, groupHashKey, hllScratchKeys } from './keys.js';
import type { RedisClient, SpeedScripts } from './scripts.js';

/** One group as one partition shard holds it. */
export interface GroupShard {
  partition: number;
  /** raw hash fields: measure name -> integer string, plus _late/_dups */
  fields: Record<string, string>;
}

/** One group (bucket + dims) with its shards from every partition that holds it. */
export interface StoredGroup {
  bucketStart: number;
  dims: (string | null)[];
  encodedDims: string;
  shards: GroupShard[];
}

export interface GroupQuery {
  view: ViewDef;
  granularity: Granularity;
  from: number;
  to: number;
  filter?: Record<string, string | null>;
}

async function execPipeline(pipe: ReturnType<RedisClient['pipeline']>): Promise<unknown[]> {
  const replies = (await pipe.exec()) ?? [];
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

function dimsFilter(view: ViewDef, filter: Record<string, string | null> | undefined): (dims: (string | null)[]) => boolean {
  const checks = Object.entries(filter ?? {}).map(([name, want]) => {
    const i = view.dimensions.indexOf(name);
    if (i < 0) throw new LambdaError('VALIDATION', `view "${view.name}" has no dimension "${name}"`);
    return { i, want };
  });
  return (dims) => checks.every(({ i, want }) => dims[i] === want);
}

async function readShard(redis: RedisClient, prefix: string, partition: number, q: GroupQuery, keep: (d: (string | null)[]) => boolean) {
  const { view, granularity: g } = q;
  const first = floorTo(q.from, g);
  const buckets = (await redis.zrangebyscore(bucketIndexKey(prefix, partition, view.name, g), first, `(${q.to}`)).map(Number);
  if (buckets.length === 0) return [];
  const dimsPipe = redis.pipeline();
  for (const b of buckets) dimsPipe.smembers(dimsIndexKey(prefix, partition, view.name, g, b));
  const dimsPerBucket = (await execPipeline(dimsPipe)) as string[][];
  const wanted: { bucketStart: number; encodedDims: string; dims: (string | null)[] }[] = [];
  buckets.forEach((bucketStart, i) => {
    for (const encodedDims of dimsPerBucket[i] ?? []) {
      const dims = decodeDims(encodedDims);
      if (keep(dims)) wanted.push({ bucketStart, encodedDims, dims });
    }
  });
  if (wanted.length === 0) return [];
  const hashPipe = redis.pipeline();
  for (const w of wanted) hashPipe.hgetall(groupHashKey(prefix, partition, { view: view.name, granularity: g, bucketStart: w.bucketStart, dims: w.dims }, w.encodedDims));
  const hashes = (await execPipeline(hashPipe)) as Record<string, string>[];
  return wanted.map((w, i) => ({ ...w, shard: { partition, fields: hashes[i] ?? {} } }));
}

/** Every stored group of the query, merged over the given partitions, sorted by bucket then dims. */
export async function readGroups(redis: RedisClient, prefix: string, partitions: readonly number[], q: GroupQuery): Promise<StoredGroup[]> {
  if (!q.view.granularities.includes(q.granularity)) {
    throw new LambdaError('VALIDATION', `view "${q.view.name}" has no ${q.granularity} granularity`);
  }
  if (q.from >= q.to) return [];
  const keep = dimsFilter(q.view, q.filter);
  const perShard = await redisCall('read speed view', () => Promise.all(partitions.map((p) => readShard(redis, prefix, p, q, keep))));
  const groups = new Map<string, StoredGroup>();
  for (const rows of perShard) {
    for (const r of rows) {
      const id = `${r.bucketStart}:${r.encodedDims}`;
      let g = groups.get(id);
      if (g === undefined) {
        g = { bucketStart: r.bucketStart, dims: r.dims, encodedDims: r.encodedDims, shards: [] };
        groups.set(id, g);
      }
      g.shards.push(r.shard);
    }
  }
  return [...groups.values()].sort((a, b) => a.bucketStart - b.bucketStart || (a.encodedDims < b.encodedDims ? -1 : a.encodedDims > b.encodedDims ? 1 : 0));
}

/** Sum of an integer field over the shards (0 when absent); refuses to leave exact doubles. */
export function sumField(shards: readonly GroupShard[], field: string): number {
  let total = 0;
  for (const s of shards) {
    const raw = s.fields[field];
    if (raw === undefined) continue;
    total += Number(raw);
    if (!Number.isSafeInteger(total)) throw new LambdaError('INTERNAL', `field ${field} is not an exact integer (${raw}); use fewer decimals`);
  }
  return total;
}

/** min or max of an integer field over the shards; null when no shard has it. */
export function extremeField(shards: readonly GroupShard[], field: string, kind: 'min' | 'max'): number | null {
  let out: number | null = null;
  for (const s of shards) {
    const raw = s.fields[field];
    if (raw === undefined) continue;
    const v = Number(raw);
    if (out === null || (kind === 'min' ? v < out : v > out)) out = v;
  }
  return out;
}

const UNION_FAN_IN = 64;

/**
 * Union of raw HLL shards (from different slots) -> estimate and raw union, through scratch keys
 * in one slot; many shards are merged in rounds so no call carries more than UNION_FAN_IN sketches.
 */
export async function unionSketches(scripts: SpeedScripts, prefix: string, sketches: readonly Buffer[]): Promise<{ estimate: number; sketch: Buffer } | null> {
  if (sketches.length === 0) return null;
  let round: Buffer[] = [...sketches];
  for (;;) {
    const chunks: Buffer[][] = [];
    for (let i = 0; i < round.length; i += UNION_FAN_IN) chunks.push(round.slice(i, i + UNION_FAN_IN));
    const merged = await redisCall('HLL union', () =>
      Promise.all(chunks.map((c) => scripts.hllUnion(hllScratchKeys(prefix, randomBytes(8).toString('hex')), c))),
    );
    if (merged.length === 1) {
      const [estimate, sketch] = merged[0] as [number, Buffer];
      return { estimate: Number(estimate), sketch };
    }
    round = merged.map(([, s]) => s);
  }
}
