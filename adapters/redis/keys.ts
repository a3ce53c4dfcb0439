/**
 * Every Redis key the service uses, built in this one module (the Lua scripts that touch them
 * live in scripts.ts). Layout version 2 (LAYOUT_VERSION), designed for the speed layer's
 * throughput (docs/design-decisions.md, "Speed layer"):
 *
 * With P = config.redis.keyPrefix, N = a Kafka partition of the event topic, D = the encoded dims
 * tuple of a group, M = a measure name:
 *
 *   {P:pN}:state                          hash   next offset, coveredSince, topic, layout, totals,
 *                                                 lost offset ranges (retention)
 *   {P:pN}:v:<view>:<g>:<bucket>          hash   one per bucket of one partition: field `D:M` = count,
 *                                                 scaled sum, min or max; `D:_late`, `D:_dups`,
 *                                                 `D:_unchecked` drift counters
 *   {P:pN}:ib:<view>:<g>                  zset   bucket index of the partition: member = score = start
 *   {P:pN}:l:<view>:<g>:<bucket>          zset   late-class events of the bucket (arrived later than the
 *                                                 allowed lateness): member `<offset>:<arrival>:D`,
 *                                                 score = offset, for the drift report
 *   {P:h:<view>:<g>:<shard>}:<bucket>:D:M string HyperLogLog of a distinct measure, all partitions
 *                                                 together (shard = a run of HLL_SHARD_BUCKETS buckets)
 *   {P:d:<hour>}                          hash   dedupe claims of the events whose event time falls in
 *                                                 that UTC hour: id -> "<partition>:<offset>" of the
 *                                                 copy that claimed it first
 *   P:speed:partitions                    set    partitions that have a shard
 *   P:speed:status                        hash   `p:N` -> JSON progress of partition N; `topicPartitions`
 *   P:speed:replays                       list   JSON of the last replays (Redis found behind a consumer), newest first
 *   P:speed:control                       hash   runtime control every speed instance obeys (issue 20):
 *                                                 `dedupe` (1/0; absent: LAMBDA_SPEED_DEDUPE), `paused`
 *                                                 (1/0), `version`, `updatedAt`
 *   P:batch:watermark                     string W of the published batch run (epoch ms; only raised)
 *   {P:tmp}:hll:<nonce>:a|b               string scratch keys for unions of HLL keys in several slots
 *   P:kappa:<id>                          prefix of one Kappa rebuild's own speed keys (every key above,
 *                                                 under that prefix), deleted when the rebuild ends
 *   P:kappa-rebuilds                      zset   rebuilds under way: member = id, score = last heartbeat (ms)
 *
 * Cluster: the exactly-once apply of one fetched batch of one partition touches only `{P:pN}` keys
 * (one slot). HLLs are written outside it (PFADD is idempotent: a replay adds nothing), so they can
 * live where a reader finds a whole series in a few slots: one slot per (view, g, shard). Claims
 * live in one slot per event hour. The prefix matches [a-zA-Z0-9_-], view and measure names
 * [a-z0-9_], so only the dims tuple and the event id come from user data: dims are base64url(JSON)
 * (no ':' '{' '}' can appear), and an id is only ever a hash field, never part of a key name.
 */
import { HOUR_MS, granularityMs, type Granularity } from '../../shared/time.js';

/** Bumped when the layout changes; a partition stored under another layout is rebuilt from Kafka. */
export const LAYOUT_VERSION = 2;

export type Dims = readonly (string | null)[];

/** JSON of the tuple is injective (null stays distinct from "null"); base64url keeps it key-safe. */
export function encodeDims(dims: Dims): string {
  return Buffer.from(JSON.stringify(dims), 'utf8').toString('base64url');
}

export function decodeDims(encoded: string): (string | null)[] {
  const parsed: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  if (!Array.isArray(parsed) || !parsed.every((v) => v === null || typeof v === 'string')) {
    throw new TypeError(`not an encoded dims tuple: ${encoded}`);
  }
  return parsed as (string | null)[];
}

/** The hash tag shared by every key of one partition shard. */
export function partitionTag(prefix: string, partition: number): string {
  return `{${prefix}:p${partition}}`;
}

export function partitionStateKey(prefix: string, partition: number): string {
  return `${partitionTag(prefix, partition)}:state`;
}

/** Identifies one group of one view at one granularity (the same group as shared/ groupKey). */
export interface GroupRef {
  view: string;
  granularity: Granularity;
  bucketStart: number;
  dims: Dims;
}

/** The hash holding every group of one bucket of one partition. */
export function bucketHashKey(prefix: string, partition: number, view: string, g: Granularity, bucketStart: number): string {
  return `${partitionTag(prefix, partition)}:v:${view}:${g}:${bucketStart}`;
}

/** Field of a bucket hash: a measure (or a `_` counter) of one group. */
export function groupField(encodedDims: string, name: string): string {
  return `${encodedDims}:${name}`;
}

/** Splits a bucket-hash field into the encoded dims and the measure or counter name. */
export function splitGroupField(field: string): [encodedDims: string, name: string] {
  const i = field.indexOf(':');
  return i < 0 ? ['', field] : [field.slice(0, i), field.slice(i + 1)];
}

/** Late-class events of one bucket of one partition (same hash tag: written in the atomic apply). */
export function lateClassKey(prefix: string, partition: number, view: string, g: Granularity, bucketStart: number): string {
  return `${partitionTag(prefix, partition)}:l:${view}:${g}:${bucketStart}`;
}

/** Member of a late-class set: unique per record (its offset), with its arrival and group. */
export function lateClassMember(offset: number, arrival: number, encodedDims: string): string {
  return `${offset}:${arrival}:${encodedDims}`;
}

export function parseLateClassMember(member: string): { offset: number; arrival: number; encodedDims: string } {
  const a = member.indexOf(':');
  const b = member.indexOf(':', a + 1);
  return { offset: Number(member.slice(0, a)), arrival: Number(member.slice(a + 1, b)), encodedDims: member.slice(b + 1) };
}

export function bucketIndexKey(prefix: string, partition: number, view: string, g: Granularity): string {
  return `${partitionTag(prefix, partition)}:ib:${view}:${g}`;
}

/**
 * Buckets per HLL shard: a 7-day hourly series spans 3-4 shards (slots), a day of minutes 23,
 * so a series reads its distinct values with a few script calls, and writes spread over slots.
 */
export const HLL_SHARD_BUCKETS = 64;

export function hllTag(prefix: string, view: string, g: Granularity, bucketStart: number): string {
  return `{${prefix}:h:${view}:${g}:${Math.floor(bucketStart / (granularityMs(g) * HLL_SHARD_BUCKETS))}}`;
}

export function distinctHllKey(prefix: string, ref: GroupRef, measure: string, encodedDims = encodeDims(ref.dims)): string {
  return `${hllTag(prefix, ref.view, ref.granularity, ref.bucketStart)}:${ref.bucketStart}:${encodedDims}:${measure}`;
}

/** UTC hour (epoch ms of its start) whose claim hash remembers an event of time `ts`. */
export function claimHour(ts: number): number {
  return Math.floor(ts / HOUR_MS) * HOUR_MS;
}

export function claimHashKey(prefix: string, hourStart: number): string {
  return `{${prefix}:d:${hourStart}}`;
}

/** Value stored for a claimed id: the coordinates of the copy that claimed it. */
export function claimOwner(partition: number, offset: number): string {
  return `${partition}:${offset}`;
}

export function speedPartitionsKey(prefix: string): string {
  return `${prefix}:speed:partitions`;
}

export function speedStatusKey(prefix: string): string {
  return `${prefix}:speed:status`;
}

/** The last replays the speed layer made because Redis had lost writes (newest first, trimmed). */
export function speedReplaysKey(prefix: string): string {
  return `${prefix}:speed:replays`;
}

/** How many replays speedReplaysKey keeps. */
export const KEPT_REPLAYS = 20;

/** Field of speedStatusKey holding partition N's progress (JSON). */
export function speedStatusField(partition: number): string {
  return `p:${partition}`;
}

export const TOPIC_PARTITIONS_FIELD = 'topicPartitions';

/** The speed layer's runtime control (shared/speed/control.ts), set through the admin API. */
export function speedControlKey(prefix: string): string {
  return `${prefix}:speed:control`;
}

/** Field of a partition's state hash counting its invalid records of one reason (beside the `invalid` total). */
export function invalidReasonField(reason: string): string {
  return `invalid:${reason}`;
}

/** The reason of an invalidReasonField, or null for any other field. */
export function reasonOfInvalidField(field: string): string | null {
  return field.startsWith('invalid:') ? field.slice('invalid:'.length) : null;
}

/** Set by the batch layer's publisher; read by the speed layer to count late arrivals. */
export function batchWatermarkKey(prefix: string): string {
  return `${prefix}:batch:watermark`;
}

/** Two scratch keys in one slot, for unions of HLL keys that live in different slots. */
export function hllScratchKeys(prefix: string, nonce: string): [string, string] {
  const tag = `{${prefix}:tmp}`;
  return [`${tag}:hll:${nonce}:a`, `${tag}:hll:${nonce}:b`];
}

/**
 * The key prefix of one Kappa rebuild (docs/design-decisions.md, "Lambda vs Kappa"): the speed
 * layer's whole layout again under it, apart from the live keys, so a rebuild never touches them.
 */
export function kappaPrefix(prefix: string, rebuildId: string): string {
  return `${prefix}:kappa:${rebuildId}`;
}

/** Rebuilds under way and their last heartbeat, so a rebuild left by a dead process is cleaned up by the next one. */
export function kappaRebuildsKey(prefix: string): string {
  return `${prefix}:kappa-rebuilds`;
}

/** Glob patterns that match every key of a prefix (for tests and an operator's cleanup, never the hot path). */
export function allKeyPatterns(prefix: string): string[] {
  return [`{${prefix}:*`, `${prefix}:*`];
}

/** Counters kept per group beside the measures (measure names start with a letter). */
export const LATE_FIELD = '_late';
export const DUPS_FIELD = '_dups';
export const UNCHECKED_FIELD = '_unchecked';
/** Marks a group that exists although every measure is empty (value 0, never read as a measure). */
export const PRESENT_FIELD = '_present';
