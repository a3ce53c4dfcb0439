/**
 * Finding the stored groups of a query without scanning the keyspace: one READ_BUCKETS_LUA call
 * per partition shard returns every bucket of the range with all its fields (the bucket index
 * gives the buckets, one hash per bucket holds its groups), and the shards are read in parallel.
 * A 7-day hourly series is therefore one call per partition, whatever the number of groups; a
 * filter that names every dimension reads that group's fields only (HMGET), not whole buckets.
 */
import { randomBytes } from 'node:crypto';
import { LambdaError } from '../../shared/errors.js';
import { floorTo, type Granularity } from '../../shared/time.js';
import type { ViewDef } from '../../shared/views/definition.js';
import { redisCall } from './client.js';
import {
  DUPS_FIELD,
  LATE_FIELD,
  PRESENT_FIELD,
  UNCHECKED_FIELD,
  bucketHashKey,
  bucketIndexKey,
  decodeDims,
  encodeDims,
  groupField,
  hllScratchKeys,
  splitGroupField,
} from './keys.js';
import type { SpeedScripts } from './scripts.js';

/** One group as one partition shard holds it. */
export interface GroupShard {
  partition: number;
  /** measure name -> integer string, plus the `_` counters */
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

function dimsFilter(view: ViewDef, filter: Record<string, string | null> | undefined): (dims: (string | null)[]) => boolean {
  const checks = Object.entries(filter ?? {}).map(([name, want]) => {
    const i = view.dimensions.indexOf(name);
    if (i < 0) throw new LambdaError('VALIDATION', `view "${view.name}" has no dimension "${name}"`);
    return { i, want };
  });
  return (dims) => checks.every(({ i, want }) => dims[i] === want);
}

interface ShardGroup {
  bucketStart: number;
  encodedDims: string;
  fields: Record<string, string>;
}

/** Every field a group can have: its measures and the drift counters. */
function groupFields(view: ViewDef, encodedDims: string): string[] {
  return [...Object.keys(view.measures), LATE_FIELD, DUPS_FIELD, UNCHECKED_FIELD, PRESENT_FIELD].map((name) => groupField(encodedDims, name));
}

/** The dims tuple a filter pins when it names every dimension of the view; else null. */
function pinnedDims(view: ViewDef, filter: Record<string, string | null> | undefined): (string | null)[] | null {
  if (filter === undefined || !view.dimensions.every((d) => Object.hasOwn(filter, d))) return null;
  return view.dimensions.map((d) => filter[d] ?? null);
}

async function readShard(scripts: SpeedScripts, prefix: string, partition: number, q: GroupQuery): Promise<ShardGroup[]> {
  const { view, granularity: g } = q;
  const hashPrefix = bucketHashKey(prefix, partition, view.name, g, 0).slice(0, -1);
  const index = bucketIndexKey(prefix, partition, view.name, g);
  // A filter on every dimension is one group: read its fields only, not whole buckets (a bucket
  // holds every group of the minute, thousands at a high rate).
  const pinned = pinnedDims(view, q.filter);
  const flat =
    pinned === null
      ? await scripts.readBuckets(index, floorTo(q.from, g), q.to, hashPrefix)
      : await scripts.readGroup(index, floorTo(q.from, g), q.to, hashPrefix, groupFields(view, encodeDims(pinned)));
  const out: ShardGroup[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const bucketStart = Number(flat[i]);
    const fields = flat[i + 1] as string[];
    const byDims = new Map<string, Record<string, string>>();
    for (let f = 0; f + 1 < fields.length; f += 2) {
      const [encodedDims, name] = splitGroupField(fields[f] as string);
      let group = byDims.get(encodedDims);
      if (group === undefined) {
        group = {};
        byDims.set(encodedDims, group);
      }
      group[name] = fields[f + 1] as string;
    }
    for (const [encodedDims, groupFields] of byDims) out.push({ bucketStart, encodedDims, fields: groupFields });
  }
  return out;
}

/** Every stored group of the query, merged over the given partitions, sorted by bucket then dims. */
export async function readGroups(scripts: SpeedScripts, prefix: string, partitions: readonly number[], q: GroupQuery): Promise<StoredGroup[]> {
  if (!q.view.granularities.includes(q.granularity)) {
    throw new LambdaError('VALIDATION', `view "${q.view.name}" has no ${q.granularity} granularity`);
  }
  if (q.from >= q.to) return [];
  const keep = dimsFilter(q.view, q.filter);
  const perShard = await redisCall('read speed view', () => Promise.all(partitions.map((p) => readShard(scripts, prefix, p, q))));
  const decoded = new Map<string, (string | null)[] | null>();
  const groups = new Map<string, StoredGroup>();
  perShard.forEach((rows, s) => {
    const partition = partitions[s] as number;
    for (const r of rows) {
      let dims = decoded.get(r.encodedDims);
      if (dims === undefined) {
        const d = decodeDims(r.encodedDims);
        dims = keep(d) ? d : null;
        decoded.set(r.encodedDims, dims);
      }
      if (dims === null) continue;
      const id = `${r.bucketStart}:${r.encodedDims}`;
      let g = groups.get(id);
      if (g === undefined) {
        g = { bucketStart: r.bucketStart, dims, encodedDims: r.encodedDims, shards: [] };
        groups.set(id, g);
      }
      g.shards.push({ partition, fields: r.fields });
    }
  });
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
 * Union of raw HLLs (from different slots) -> estimate and raw union, through scratch keys in one
 * slot; many sketches are merged in rounds so no call carries more than UNION_FAN_IN of them.
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
