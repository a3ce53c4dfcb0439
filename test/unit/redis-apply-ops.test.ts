import { describe, expect, it } from 'vitest';
import { encodeApply } from '../../adapters/redis/apply-ops.js';
import { LAYOUT_VERSION, decodeDims, splitGroupField } from '../../adapters/redis/keys.js';
import { bucketExpireAtMs, lastExpiredBucketStart } from '../../shared/speed/retention.js';
import { Aggregate, type GroupState } from '../../shared/aggregate/aggregate.js';
import type { GroupCounters, SpeedApply } from '../../shared/speed/apply.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { DAY_MS } from '../../shared/time.js';

const views = defaultViewSet();
const policy = { batchPeriodMs: 5 * 60_000, allowedLatenessMs: 60_000 };
const NOW = Date.UTC(2024, 4, 1, 12);

function applyOf(events: Record<string, unknown>[], extra: Partial<SpeedApply> = {}): SpeedApply {
  const agg = new Aggregate();
  for (const body of events) agg.add({ id: String(body.id), ts: Number(body.ts), body }, views);
  return {
    partition: 2,
    expectedNext: 10,
    newNext: 10 + events.length,
    groups: [...agg.groups()],
    counters: new Map(),
    lateClass: [],
    totals: { events: events.length, duplicatesSkipped: 0, duplicatesApplied: 0, late: 0, invalid: 0, unchecked: 0 },
    nowMs: NOW,
    ...extra,
  };
}

interface Section {
  hash: string;
  index: string;
  expireAt: string;
  bucketStart: string;
  trimBelow: string;
  incr: [string, string][];
  min: [string, string][];
  max: [string, string][];
}

/** Walks ARGV the way APPLY_BATCH_LUA does. */
function decode(
  keys: string[],
  args: string[],
): {
  head: string[];
  totals: [string, string][];
  sets: [string, string][];
  late: { key: string; expireAt: string; members: [string, string][] }[];
  sections: Section[];
} {
  const a = Number(args[4]);
  const b = Number(args[5]);
  const c = Number(args[6]);
  const pairs = (from: number, n: number): [string, string][] =>
    Array.from({ length: n }, (_, k) => [args[from + 2 * k] as string, args[from + 2 * k + 1] as string]);
  const late: { key: string; expireAt: string; members: [string, string][] }[] = [];
  let i = 7 + 2 * (a + b);
  for (let k = 1; k <= c; k++) {
    const n = Number(args[i + 1]);
    late.push({ key: keys[k] as string, expireAt: args[i] as string, members: pairs(i + 2, n) });
    i += 2 + 2 * n;
  }
  const sections: Section[] = [];
  let s = 0;
  while (i < args.length) {
    s++;
    const [nI, nL, nG] = [Number(args[i + 3]), Number(args[i + 4]), Number(args[i + 5])];
    const body = i + 6;
    sections.push({
      hash: keys[c + 2 * s - 1] as string,
      index: keys[c + 2 * s] as string,
      expireAt: args[i] as string,
      bucketStart: args[i + 1] as string,
      trimBelow: args[i + 2] as string,
      incr: pairs(body, nI),
      min: pairs(body + 2 * nI, nL),
      max: pairs(body + 2 * (nI + nL), nG),
    });
    i = body + 2 * (nI + nL + nG);
  }
  expect(i).toBe(args.length);
  expect(keys).toHaveLength(1 + c + 2 * s);
  return { head: args.slice(0, 7), totals: pairs(7, a), sets: pairs(7 + 2 * a, b), late, sections };
}

describe('encodeApply', () => {
  const purchase = { id: 'p1', ts: NOW - 1000, type: 'purchase', country: 'DE', user: 'u1', amount: 19.99 };
  const view = { id: 'v1', ts: NOW - 1000, type: 'pageview', url: '/x', user: 'u7' };

  it('carries the offsets, now and the layout in ARGV, and puts every key of the call in the partition slot', () => {
    const { keys, args } = encodeApply('la', applyOf([purchase, view]), policy);
    expect(args.slice(0, 4)).toEqual(['10', '12', String(NOW), String(LAYOUT_VERSION)]);
    expect(keys[0]).toBe('{la:p2}:state');
    for (const k of keys) expect(k.startsWith('{la:p2}:')).toBe(true);
    // One section per (view, granularity, bucket): 2 views x 3 granularities here.
    expect(decode(keys, args).sections).toHaveLength(6);
  });

  it('adds integers only: counts, scaled sums and counters by HINCRBY, min/max by compare; distinct goes to the HLL calls', () => {
    const { keys, args, hll } = encodeApply('la', applyOf([purchase, view]), policy);
    const { totals, sections } = decode(keys, args);
    const minuteRevenue = sections.find((s) => s.hash.includes(':v:revenue:minute:')) as Section;
    const fields = (pairs: [string, string][]) => pairs.map(([f, v]) => [splitGroupField(f)[1], v]);
    expect(fields(minuteRevenue.incr)).toEqual([
      ['purchases', '1'],
      ['revenue', '1999'],
    ]);
    expect(fields(minuteRevenue.max)).toEqual([['max_order', '1999']]);
    expect(decodeDims(splitGroupField(minuteRevenue.incr[0]?.[0] as string)[0])).toEqual(['DE']);
    expect(totals).toContainEqual(['events', '2']);
    // Distinct members: one PFADD script per HLL slot, never inside the partition's call.
    expect(args).not.toContain('u7');
    const pfadds = hll.flatMap((c) => c.keys);
    expect(pfadds.filter((k) => k.endsWith(':visitors'))).toHaveLength(3);
    for (const c of hll) expect(c.args).toContain('u7');
  });

  it('gives each bucket its absolute expiry and the index trim bound, for the script to set once at creation', () => {
    const { keys, args } = encodeApply('la', applyOf([view]), policy);
    const dayStart = Math.floor(view.ts / DAY_MS) * DAY_MS;
    const day = decode(keys, args).sections.find((s) => s.hash.endsWith(`:v:pageviews:day:${dayStart}`)) as Section;
    expect(day.expireAt).toBe(String(bucketExpireAtMs(dayStart, 'day', policy)));
    expect(day.index).toBe('{la:p2}:ib:pageviews:day');
    expect(day.bucketStart).toBe(String(dayStart));
    expect(day.trimBelow).toBe(String(lastExpiredBucketStart(NOW, 'day', policy)));
  });

  it('writes drift counters beside the measures of their group, and the loss of a range into the state', () => {
    const a = applyOf([view]);
    const counters = new Map<GroupState, GroupCounters>();
    for (const g of a.groups) counters.set(g, { late: 1, dups: 2, unchecked: 3 });
    const lost = { from: 4, to: 10, untilTs: NOW - 5000 };
    const { keys, args } = encodeApply('la', { ...a, counters, lost, coveredSince: NOW - 5000 }, policy);
    const { totals, sets, sections } = decode(keys, args);
    for (const s of sections)
      expect(s.incr.map(([f, v]) => [splitGroupField(f)[1], v])).toEqual(
        expect.arrayContaining([
          ['_late', '1'],
          ['_dups', '2'],
          ['_unchecked', '3'],
        ]),
      );
    expect(totals).toContainEqual(['lostOffsets', '6']);
    expect(sets).toEqual([
      ['lastLost', JSON.stringify(lost)],
      ['coveredSince', String(NOW - 5000)],
    ]);
  });

  it('writes nothing for an empty sum or a missing max: the count alone lists the group', () => {
    const noAmount = { id: 'p2', ts: NOW - 1000, type: 'purchase', country: 'FR', user: 'u2' };
    const { keys, args } = encodeApply('la', applyOf([noAmount]), policy);
    const minute = decode(keys, args).sections.find((s) => s.hash.includes(':v:revenue:minute:')) as Section;
    // purchases counts 1; revenue (sum 0) and max_order (null) write nothing.
    expect(minute.incr.map(([f]) => splitGroupField(f)[1])).toEqual(['purchases']);
    expect(minute.max).toEqual([]);
  });

  it('keeps late-class events in one sorted set per bucket, scored by offset, with their arrival and group', () => {
    const a = applyOf([view]);
    const lateClass = a.groups.map((group) => ({ group, offset: 42, arrival: NOW + 5 }));
    const { keys, args } = encodeApply('la', { ...a, lateClass }, policy);
    const { late, sections } = decode(keys, args);
    expect(sections).toHaveLength(3);
    expect(late.map((l) => l.key.split(':').slice(2, 5))).toEqual([
      ['l', 'pageviews', 'minute'],
      ['l', 'pageviews', 'hour'],
      ['l', 'pageviews', 'day'],
    ]);
    for (const l of late) {
      expect(l.members).toEqual([['42', `42:${NOW + 5}:${Buffer.from(JSON.stringify(['/x'])).toString('base64url')}`]]);
      expect(l.key.startsWith('{la:p2}:')).toBe(true);
    }
  });

  it('skips groups whose bucket has already expired instead of writing keys that vanish at once', () => {
    const old = { ...view, id: 'old', ts: NOW - 3 * DAY_MS };
    const { keys, args, hll, expiredGroups } = encodeApply('la', applyOf([old]), policy);
    expect(expiredGroups).toBe(3);
    expect(decode(keys, args).sections).toEqual([]);
    expect(hll).toEqual([]);
  });
});
