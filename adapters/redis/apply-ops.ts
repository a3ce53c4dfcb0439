/**
 * Turns one planned batch (shared/speed/apply.ts) into the arguments of the scripts in scripts.ts:
 * one APPLY_BATCH_LUA call for the partition (a section per bucket: HINCRBY of counts, scaled sums
 * and drift counters, compare-and-set of min/max) and one HLL_ADD_LUA call per HLL slot (PFADD of
 * distinct members). Pure, so it is unit-tested; it builds flat string arrays once, no op codes.
 *
 * Counts and sums are integers: sum/min/max arrive scaled (value x 10^decimals) from the shared
 * projection, so Redis only ever adds integers (HINCRBY) and a bucket holds exactly the decimal
 * total, with no floating-point noise; the reader divides once, at the end.
 */
import type { GroupState } from '../../shared/aggregate/aggregate.js';
import type { MeasureState } from '../../shared/aggregate/monoids.js';
import { CELLS } from '../../shared/aggregate/measure-kinds.js';
import { storedValue } from '../../shared/aggregate/stored-group.js';
import { SPEED_TOTAL_FIELDS, type SpeedApply } from '../../shared/speed/apply.js';
import type { Granularity } from '../../shared/time.js';
import {
  DUPS_FIELD,
  LATE_FIELD,
  LAYOUT_VERSION,
  PRESENT_FIELD,
  UNCHECKED_FIELD,
  bucketHashKey,
  bucketIndexKey,
  distinctHllKey,
  encodeDims,
  groupField,
  hllTag,
  invalidReasonField,
  lateClassKey,
  lateClassMember,
  partitionStateKey,
} from './keys.js';
import { bucketExpireAtMs, lastExpiredBucketStart, type RetentionPolicy } from '../../shared/speed/retention.js';

export interface EncodedApply {
  /** APPLY_BATCH_LUA: the partition state, the late-class sets, then (bucket hash, bucket index) per section */
  keys: string[];
  args: string[];
  /** HLL_ADD_LUA calls, one per slot (hash tag) */
  hll: { keys: string[]; args: string[] }[];
  /** groups not written because their bucket had already expired (too late to be served) */
  expiredGroups: number;
}

interface Section {
  hash: string;
  index: string;
  expireAt: number;
  bucketStart: number;
  trimBelow: number;
  incr: string[];
  min: string[];
  max: string[];
}

export function encodeApply(prefix: string, a: SpeedApply, policy: RetentionPolicy): EncodedApply {
  const sections = new Map<string, Section>();
  const hll = new Map<string, { keys: string[]; args: string[] }>();
  const trimBelow = new Map<Granularity, number>();
  let expiredGroups = 0;

  const sectionOf = (g: GroupState, expireAt: number): Section => {
    const hash = bucketHashKey(prefix, a.partition, g.view, g.granularity, g.bucketStart);
    let s = sections.get(hash);
    if (s === undefined) {
      let trim = trimBelow.get(g.granularity);
      if (trim === undefined) {
        trim = lastExpiredBucketStart(a.nowMs, g.granularity, policy);
        trimBelow.set(g.granularity, trim);
      }
      s = {
        hash,
        index: bucketIndexKey(prefix, a.partition, g.view, g.granularity),
        expireAt,
        bucketStart: g.bucketStart,
        trimBelow: trim,
        incr: [],
        min: [],
        max: [],
      };
      sections.set(hash, s);
    }
    return s;
  };

  for (const g of a.groups) {
    const expireAt = bucketExpireAtMs(g.bucketStart, g.granularity, policy);
    if (expireAt <= a.nowMs) {
      expiredGroups++;
      continue;
    }
    const dims = encodeDims(g.dims);
    const s = sectionOf(g, expireAt);
    const fieldsBefore = s.incr.length + s.min.length + s.max.length;
    // g.measures holds the group's cells (shared/aggregate/measure-kinds.ts); each applies by its op.
    for (const name in g.measures) {
      const m = g.measures[name] as MeasureState;
      const op = CELLS[m.kind].redisOp;
      const v = storedValue(m);
      if (op === 'incr') {
        if (v !== 0 && v !== null) s.incr.push(groupField(dims, name), String(v));
      } else if (op === 'min' || op === 'max') {
        if (v !== null) (op === 'min' ? s.min : s.max).push(groupField(dims, name), String(v));
      } else if (m.kind === 'distinct' && m.members.size > 0) {
        const tag = hllTag(prefix, g.view, g.granularity, g.bucketStart);
        let call = hll.get(tag);
        if (call === undefined) {
          call = { keys: [], args: [] };
          hll.set(tag, call);
        }
        call.keys.push(distinctHllKey(prefix, g, name, dims));
        call.args.push(String(expireAt), String(m.members.size));
        for (const member of m.members) call.args.push(member);
      }
    }
    const c = a.counters.get(g);
    if (c !== undefined) {
      if (c.late !== 0) s.incr.push(groupField(dims, LATE_FIELD), String(c.late));
      if (c.dups !== 0) s.incr.push(groupField(dims, DUPS_FIELD), String(c.dups));
      if (c.unchecked !== 0) s.incr.push(groupField(dims, UNCHECKED_FIELD), String(c.unchecked));
    }
    // A group whose every value is empty (a max of null amounts) is still listed, with nulls, as
    // the batch layer lists it: a zero marker field makes it exist.
    if (s.incr.length + s.min.length + s.max.length === fieldsBefore) s.incr.push(groupField(dims, PRESENT_FIELD), '0');
  }

  // Late-class events: one sorted set per bucket, members unique per offset (a replay adds nothing).
  const late = new Map<string, { expireAt: number; members: string[] }>();
  for (const e of a.lateClass) {
    const g = e.group;
    const expireAt = bucketExpireAtMs(g.bucketStart, g.granularity, policy);
    if (expireAt <= a.nowMs) continue;
    const key = lateClassKey(prefix, a.partition, g.view, g.granularity, g.bucketStart);
    let set = late.get(key);
    if (set === undefined) {
      set = { expireAt, members: [] };
      late.set(key, set);
    }
    set.members.push(String(e.offset), lateClassMember(e.offset, e.arrival, encodeDims(g.dims)));
  }

  const keys = [partitionStateKey(prefix, a.partition), ...late.keys()];
  const incrTotals: string[] = [];
  for (const f of SPEED_TOTAL_FIELDS) if (a.totals[f] !== 0) incrTotals.push(f, String(a.totals[f]));
  for (const [reason, n] of a.invalidByReason ?? []) if (n !== 0) incrTotals.push(invalidReasonField(reason), String(n));
  const setState: string[] = [];
  if (a.lost) {
    incrTotals.push('lostOffsets', String(a.lost.to - a.lost.from));
    setState.push('lastLost', JSON.stringify(a.lost));
  }
  if (a.coveredSince !== undefined) setState.push('coveredSince', String(a.coveredSince));
  const args = [
    String(a.expectedNext),
    String(a.newNext),
    String(a.nowMs),
    String(LAYOUT_VERSION),
    String(incrTotals.length / 2),
    String(setState.length / 2),
    String(late.size),
    ...incrTotals,
    ...setState,
  ];
  for (const set of late.values()) {
    args.push(String(set.expireAt), String(set.members.length / 2));
    for (const x of set.members) args.push(x);
  }
  for (const s of sections.values()) {
    // An empty section (every measure zero, e.g. a min/max view of null amounts) still creates
    // the bucket, so its group is listed with zeros, as the batch layer lists it.
    keys.push(s.hash, s.index);
    args.push(String(s.expireAt), String(s.bucketStart), String(s.trimBelow), String(s.incr.length / 2), String(s.min.length / 2), String(s.max.length / 2));
    for (const x of s.incr) args.push(x);
    for (const x of s.min) args.push(x);
    for (const x of s.max) args.push(x);
  }
  return { keys, args, hll: [...hll.values()], expiredGroups };
}
