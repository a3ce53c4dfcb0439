/**
 * Turns one pre-aggregated batch into the KEYS and ARGV of APPLY_BATCH_LUA (scripts.ts): per
 * group, HINCRBY of counts and scaled sums, compare-and-set of min/max, PFADD of distinct
 * members, the absolute bucket expiry and the two index entries. Pure, so it is unit-tested.
 *
 * Counts and sums are integers: sum/min/max arrive scaled (value x 10^decimals) from the shared
 * projection, so Redis only ever adds integers (HINCRBY) and a bucket holds exactly the decimal
 * total, with no floating-point noise; the reader divides once, at the end.
 */
import type { GroupState } from '../../shared/aggregate/aggregate.js';
import type { Granularity } from '../../shared/time.js';
import {
  DUPS_FIELD,
  LATE_FIELD,
  bucketIndexKey,
  dimsIndexKey,
  distinctHllKey,
  encodeDims,
  groupHashKey,
  partitionStateKey,
  seenKey,
  type GroupRef,
} from './keys.js';
import { bucketExpireAtMs, lastExpiredBucketStart, type RetentionPolicy } from './retention.js';

export interface GroupCounters {
  ref: GroupRef;
  /** events applied whose bucket was already behind the published batch watermark */
  late: number;
  /** events applied although their id had been seen (dedupe off) */
  dups: number;
}

export interface SpeedApply {
  partition: number;
  /** the stored next offset this batch was planned against */
  expectedNext: number;
  /** last offset of the batch + 1 */
  newNext: number;
  groups: readonly GroupState[];
  /** per-group late/dup counters; every ref here is also one of `groups` (that is what indexes it) */
  counters: readonly GroupCounters[];
  /** ids to remember (SET NX with TTL) */
  seenIds: readonly string[];
  /** added to the partition's running totals in its state hash */
  totals: { events: number; duplicatesSkipped: number; duplicatesApplied: number; late: number; invalid: number };
  nowMs: number;
}

export interface EncodedApply {
  keys: string[];
  args: string[];
  /** groups not written because their bucket had already expired (too late to be served) */
  expiredGroups: number;
}

/** Keys in first-use order; ops refer to them by 1-based index (KEYS[1] is the state hash). */
class KeyTable {
  readonly keys: string[] = [];
  private readonly index = new Map<string, number>();
  ref(key: string): string {
    let i = this.index.get(key);
    if (i === undefined) {
      this.keys.push(key);
      i = this.keys.length;
      this.index.set(key, i);
    }
    return String(i);
  }
}

export function encodeApply(prefix: string, a: SpeedApply, policy: RetentionPolicy, dedupeTtlSeconds: number): EncodedApply {
  const t = new KeyTable();
  const state = t.ref(partitionStateKey(prefix, a.partition));
  const args: string[] = [];
  const expireAt = (bucketStart: number, g: Granularity) => bucketExpireAtMs(bucketStart, g, policy);
  const alive = (ref: GroupRef) => expireAt(ref.bucketStart, ref.granularity) > a.nowMs;
  const trimmed = new Set<string>();
  let expiredGroups = 0;

  for (const id of a.seenIds) args.push('S', t.ref(seenKey(prefix, a.partition, id)));

  for (const group of a.groups) {
    if (!alive(group)) {
      expiredGroups++;
      continue;
    }
    const dims = encodeDims(group.dims);
    const at = String(expireAt(group.bucketStart, group.granularity));
    const hash = t.ref(groupHashKey(prefix, a.partition, group, dims));
    let wroteHash = false;
    for (const [name, s] of Object.entries(group.measures)) {
      if (s.kind === 'count' && s.n !== 0) args.push('I', hash, name, String(s.n));
      else if (s.kind === 'sum' && s.v !== 0) args.push('I', hash, name, String(s.v));
      else if ((s.kind === 'min' || s.kind === 'max') && s.v !== null) args.push(s.kind === 'min' ? 'L' : 'G', hash, name, String(s.v));
      else if (s.kind === 'distinct' && s.members.size > 0) {
        const hll = t.ref(distinctHllKey(prefix, a.partition, group, name, dims));
        args.push('P', hll, String(s.members.size), ...s.members, 'E', hll, at);
        continue;
      } else continue;
      wroteHash = true;
    }
    if (wroteHash) args.push('E', hash, at);
    const bucketIndex = bucketIndexKey(prefix, a.partition, group.view, group.granularity);
    const ib = t.ref(bucketIndex);
    const id = t.ref(dimsIndexKey(prefix, a.partition, group.view, group.granularity, group.bucketStart));
    args.push('Z', ib, String(group.bucketStart), 'X', ib, at, 'A', id, dims, 'E', id, at);
    if (!trimmed.has(bucketIndex)) {
      trimmed.add(bucketIndex);
      args.push('T', ib, String(lastExpiredBucketStart(a.nowMs, group.granularity, policy)));
    }
  }

  for (const c of a.counters) {
    if (!alive(c.ref) || (c.late === 0 && c.dups === 0)) continue;
    const hash = t.ref(groupHashKey(prefix, a.partition, c.ref));
    if (c.late !== 0) args.push('I', hash, LATE_FIELD, String(c.late));
    if (c.dups !== 0) args.push('I', hash, DUPS_FIELD, String(c.dups));
    args.push('E', hash, String(expireAt(c.ref.bucketStart, c.ref.granularity)));
  }

  const totals: [string, number][] = [
    ['events', a.totals.events],
    ['duplicatesSkipped', a.totals.duplicatesSkipped],
    ['duplicatesApplied', a.totals.duplicatesApplied],
    ['late', a.totals.late],
    ['invalid', a.totals.invalid],
  ];
  for (const [field, n] of totals) if (n !== 0) args.push('I', state, field, String(n));

  return { keys: t.keys, args: [String(a.expectedNext), String(a.newNext), String(dedupeTtlSeconds), String(a.nowMs), ...args], expiredGroups };
}
