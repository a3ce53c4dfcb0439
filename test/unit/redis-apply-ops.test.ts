import { describe, expect, it } from 'vitest';
import { encodeApply, type SpeedApply } from '../../adapters/redis/apply-ops.js';
import { bucketExpireAtMs } from '../../adapters/redis/retention.js';
import { Aggregate } from '../../shared/aggregate/aggregate.js';
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
    counters: [],
    seenIds: events.map((e) => String(e.id)),
    totals: { events: events.length, duplicatesSkipped: 0, duplicatesApplied: 0, late: 0, invalid: 0 },
    nowMs: NOW,
    ...extra,
  };
}

/** Walks ARGV the way the Lua script does; returns the ops with their key names resolved. */
function decode(keys: string[], args: string[]): string[][] {
  const ops: string[][] = [];
  const arity: Record<string, number> = { S: 0, I: 2, L: 2, G: 2, E: 1, X: 1, Z: 1, A: 1, T: 1 };
  for (let i = 4; i < args.length; ) {
    const op = args[i] as string;
    const key = keys[Number(args[i + 1]) - 1];
    expect(key, `key index at ${i}`).toBeDefined();
    const n = op === 'P' ? 1 + Number(args[i + 2]) : arity[op];
    expect(n, `op ${op}`).toBeDefined();
    ops.push([op, key as string, ...args.slice(i + 2, i + 2 + (n as number))]);
    i += 2 + (n as number);
  }
  return ops;
}

describe('encodeApply', () => {
  const purchase = { id: 'p1', ts: NOW - 1000, type: 'purchase', country: 'DE', user: 'u1', amount: 19.99 };
  const view = { id: 'v1', ts: NOW - 1000, type: 'pageview', url: '/x', user: 'u7' };

  it('carries the offsets, the dedupe TTL and now in ARGV[1..4], and one slot for every key', () => {
    const { keys, args } = encodeApply('la', applyOf([purchase, view]), policy, 3600);
    expect(args.slice(0, 4)).toEqual(['10', '12', '3600', String(NOW)]);
    expect(keys[0]).toBe('{la:p2}:state');
    for (const k of keys) expect(k.startsWith('{la:p2}:')).toBe(true);
  });

  it('adds integers only: counts and scaled sums by HINCRBY, max by compare, distinct by PFADD', () => {
    const { keys, args } = encodeApply('la', applyOf([purchase, view]), policy, 3600);
    const ops = decode(keys, args);
    const minuteRevenue = ops.filter((o) => o[1]?.includes(':g:revenue:minute:'));
    expect(minuteRevenue).toContainEqual(['I', expect.any(String), 'purchases', '1']);
    expect(minuteRevenue).toContainEqual(['I', expect.any(String), 'revenue', '1999']);
    expect(minuteRevenue).toContainEqual(['G', expect.any(String), 'max_order', '1999']);
    expect(ops).toContainEqual(['P', expect.stringMatching(/:h:pageviews:hour:.*:visitors$/), '1', 'u7']);
    expect(ops.filter((o) => o[0] === 'S').map((o) => o[1])).toEqual(['{la:p2}:seen:p1', '{la:p2}:seen:v1']);
    expect(ops).toContainEqual(['I', '{la:p2}:state', 'events', '2']);
  });

  it('expires every bucket key at bucket end + retention and indexes the bucket and its dims', () => {
    const { keys, args } = encodeApply('la', applyOf([view]), policy, 3600);
    const ops = decode(keys, args);
    const dayStart = Math.floor(view.ts / DAY_MS) * DAY_MS;
    const at = String(bucketExpireAtMs(dayStart, 'day', policy));
    const dayKeys = ops.filter((o) => o[0] === 'E' && o[1]?.includes(`:day:${dayStart}`));
    expect(dayKeys.map((o) => o[2])).toEqual([at, at, at]); // HLL, group hash, dims set
    expect(ops).toContainEqual(['Z', '{la:p2}:ib:pageviews:day', String(dayStart)]);
    expect(ops).toContainEqual(['X', '{la:p2}:ib:pageviews:day', at]);
    expect(ops).toContainEqual(['A', `{la:p2}:id:pageviews:day:${dayStart}`, expect.any(String)]);
  });

  it('skips groups whose bucket has already expired instead of writing keys that vanish at once', () => {
    const old = { ...view, id: 'old', ts: NOW - 3 * DAY_MS };
    const { args, expiredGroups } = encodeApply('la', applyOf([old]), policy, 3600);
    expect(expiredGroups).toBe(3);
    expect(args.filter((a) => a === 'Z')).toHaveLength(0);
  });
});
