/**
 * Every Redis key the service uses, built in this one module (the Lua scripts that touch them
 * live in scripts.ts).
 *
 * Layout, with P = config.redis.keyPrefix and N = a Kafka partition of the event topic:
 *
 *   {P:pN}:state                          hash   next offset, coveredSince, topic, running totals
 *   {P:pN}:seen:<event id>                string dedupe marker, TTL = speed.dedupeTtlSeconds
 *   {P:pN}:g:<view>:<g>:<bucket>:<dims>   hash   measure fields (count; sum/min/max as scaled
 *                                                 integers) plus `_late` and `_dups` counters
 *   {P:pN}:h:<view>:<g>:<bucket>:<dims>:<measure>  HyperLogLog of a distinct measure
 *   {P:pN}:ib:<view>:<g>                  zset   bucket index: member = score = bucket start
 *   {P:pN}:id:<view>:<g>:<bucket>         set    dims index: the encoded dims of one bucket
 *   P:speed:partitions                    set    partitions that have a shard
 *   P:speed:status                        hash   `p:N` -> JSON progress of partition N; `topicPartitions`
 *   P:batch:watermark                     string W of the published batch run (epoch ms)
 *   {P:tmp}:hll:<nonce>:a|b               string scratch keys for unions of HLL shards
 *
 * Cluster: every key a partition's consumer writes carries the hash tag `{P:pN}`, so one Lua call
 * (one fetched batch of one partition) touches one slot, and partitions are independent shards
 * that readers merge (counts and sums add, min/max compare, HLLs union). The prefix matches
 * [a-zA-Z0-9_-], view and measure names [a-z0-9_], so only the dims tuple and the event id come
 * from user data: dims are base64url(JSON) (no ':' '{' '}' can appear), the id is always the last
 * component of a key whose hash tag comes first, so it cannot change the slot or another key's
 * meaning.
 */
import type { Granularity } from '../../shared/time.js';

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

export function seenKey(prefix: string, partition: number, eventId: string): string {
  return `${partitionTag(prefix, partition)}:seen:${eventId}`;
}

/** Identifies one group of one view at one granularity (the same group as shared/ groupKey). */
export interface GroupRef {
  view: string;
  granularity: Granularity;
  bucketStart: number;
  dims: Dims;
}

export function groupHashKey(prefix: string, partition: number, ref: GroupRef, encodedDims = encodeDims(ref.dims)): string {
  return `${partitionTag(prefix, partition)}:g:${ref.view}:${ref.granularity}:${ref.bucketStart}:${encodedDims}`;
}

export function distinctHllKey(prefix: string, partition: number, ref: GroupRef, measure: string, encodedDims = encodeDims(ref.dims)): string {
  return `${partitionTag(prefix, partition)}:h:${ref.view}:${ref.granularity}:${ref.bucketStart}:${encodedDims}:${measure}`;
}

export function bucketIndexKey(prefix: string, partition: number, view: string, g: Granularity): string {
  return `${partitionTag(prefix, partition)}:ib:${view}:${g}`;
}

export function dimsIndexKey(prefix: string, partition: number, view: string, g: Granularity, bucketStart: number): string {
  return `${partitionTag(prefix, partition)}:id:${view}:${g}:${bucketStart}`;
}

export function speedPartitionsKey(prefix: string): string {
  return `${prefix}:speed:partitions`;
}

export function speedStatusKey(prefix: string): string {
  return `${prefix}:speed:status`;
}

/** Field of speedStatusKey holding partition N's progress (JSON). */
export function speedStatusField(partition: number): string {
  return `p:${partition}`;
}

export const TOPIC_PARTITIONS_FIELD = 'topicPartitions';

/** Set by the batch layer's publisher; read by the speed layer to count late arrivals. */
export function batchWatermarkKey(prefix: string): string {
  return `${prefix}:batch:watermark`;
}

/** Two scratch keys in one slot, for unions of HLL shards that live in different slots. */
export function hllScratchKeys(prefix: string, nonce: string): [string, string] {
  const tag = `{${prefix}:tmp}`;
  return [`${tag}:hll:${nonce}:a`, `${tag}:hll:${nonce}:b`];
}

/** Glob patterns that match every key of a prefix (for tests and an operator's cleanup, never the hot path). */
export function allKeyPatterns(prefix: string): string[] {
  return [`{${prefix}:*`, `${prefix}:*`];
}

/** Hash fields of a group hash that are not measures (measure names start with a letter). */
export const LATE_FIELD = '_late';
export const DUPS_FIELD = '_dups';
