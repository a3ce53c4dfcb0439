import { describe, expect, it } from 'vitest';
import { claimRequests, parseRecords, planBatch, resolveClaims, type SourceRecord } from '../../speed-layer/plan.js';
import { coverageStart } from '../../speed-layer/coverage.js';
import { finalizeMeasures } from '../../shared/aggregate/finalize.js';
import { groupKey } from '../../shared/aggregate/aggregate.js';
import { referenceFold } from '../../shared/reference-fold.js';
import { clickstream } from '../../shared/generator/clickstream.js';
import { CLAIM_DUPLICATE, CLAIM_OWNED, CLAIM_UNCHECKED, beyondDedupeWindow, type ClaimItem } from '../../shared/speed/apply.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../shared/time.js';

const views = defaultViewSet();
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const WINDOW = HOUR_MS;

function pv(id: string, ts: number, url = '/a', user = 'u1'): string {
  return JSON.stringify({ id, ts, type: 'pageview', url, user });
}

function records(values: (string | null)[], firstOffset = 100, arrival = T0 + 1000): SourceRecord[] {
  return values.map((value, i) => ({ offset: firstOffset + i, key: null, value, timestamp: arrival }));
}

/** An in-memory stand-in for the claim store: the first (partition, offset) to claim an id owns it. */
class MemoryClaims {
  readonly owners = new Map<string, string>();
  claim(partition: number, items: readonly ClaimItem[]): number[] {
    return items.map((it) => {
      const me = `${partition}:${it.offset}`;
      const owner = this.owners.get(it.id);
      if (owner === undefined) this.owners.set(it.id, me);
      return owner === undefined || owner === me ? CLAIM_OWNED : CLAIM_DUPLICATE;
    });
  }
}

function plan(
  values: (string | null)[],
  opts: { dedupe?: boolean; claims?: MemoryClaims; partition?: number; watermark?: number | null; arrival?: number } = {},
) {
  const parsed = parseRecords(records(values, 100, opts.arrival), views);
  const claims = opts.claims ?? new MemoryClaims();
  const partition = opts.partition ?? 3;
  const req = claimRequests(parsed, WINDOW);
  return planBatch({
    partition,
    records: parsed,
    claims: resolveClaims(req.flags, req.at, claims.claim(partition, req.items)),
    expectedNext: 100,
    views,
    dedupe: opts.dedupe ?? true,
    watermark: opts.watermark ?? null,
    allowedLatenessMs: 60_000,
    nowMs: T0,
  });
}

function counters(p: ReturnType<typeof plan>) {
  return [...p.apply.counters].map(([g, c]) => [g.view, g.granularity, g.bucketStart, c.late, c.dups, c.unchecked]);
}

describe('planBatch', () => {
  const values = [pv('a', T0), pv('b', T0 + 1), pv('a', T0), '{"id": "broken', null, pv('c', T0 - 10 * MINUTE_MS)];

  it('skips repeated ids when dedupe is on and ends after the last offset', () => {
    const p = plan(values);
    expect(p.apply.newNext).toBe(106);
    expect(p.apply.expectedNext).toBe(100);
    expect(p.apply.totals).toEqual({ events: 3, duplicatesSkipped: 1, duplicatesApplied: 0, late: 0, invalid: 2, unchecked: 0 });
    const minuteA = p.apply.groups.find((g) => g.view === 'pageviews' && g.granularity === 'minute' && g.bucketStart === T0);
    expect(minuteA?.measures.views).toEqual({ kind: 'count', n: 2 });
    expect(p.apply.counters.size).toBe(0);
  });

  it('applies repeated ids when dedupe is off and counts them per group', () => {
    const p = plan(values, { dedupe: false });
    expect(p.apply.totals).toMatchObject({ events: 4, duplicatesSkipped: 0, duplicatesApplied: 1 });
    const minuteA = p.apply.groups.find((g) => g.view === 'pageviews' && g.granularity === 'minute' && g.bucketStart === T0);
    expect(minuteA?.measures.views).toEqual({ kind: 'count', n: 3 });
    expect(counters(p)).toEqual([
      ['pageviews', 'minute', T0, 0, 1, 0],
      ['pageviews', 'hour', T0, 0, 1, 0],
      ['pageviews', 'day', T0 - 12 * HOUR_MS, 0, 1, 0],
    ]);
  });

  it('treats an id another partition claimed first as a duplicate, and a replay of its own claim as no duplicate', () => {
    const claims = new MemoryClaims();
    plan([pv('a', T0)], { claims, partition: 0 });
    const other = plan([pv('a', T0), pv('z', T0)], { claims, partition: 1 });
    expect(other.apply.totals).toMatchObject({ events: 1, duplicatesSkipped: 1 });
    // Partition 0 replays its batch (a crash before the apply): it owns "a", so it counts again.
    const replay = plan([pv('a', T0)], { claims, partition: 0 });
    expect(replay.apply.totals).toMatchObject({ events: 1, duplicatesSkipped: 0 });
  });

  it('does not claim a copy that arrives past the dedupe window: it is applied and counted unchecked', () => {
    const arrival = T0 + HOUR_MS + WINDOW + 1; // its event hour (12:00-13:00) ended more than WINDOW ago
    expect(beyondDedupeWindow(T0, arrival, WINDOW)).toBe(true);
    expect(beyondDedupeWindow(T0, arrival - 1, WINDOW)).toBe(false);
    const parsed = parseRecords(records([pv('a', T0), 'nope'], 100, arrival), views);
    const req = claimRequests(parsed, WINDOW);
    expect(req.items).toEqual([]);
    expect([...req.flags]).toEqual([CLAIM_UNCHECKED, CLAIM_OWNED]);
    const p = plan([pv('a', T0), pv('a', T0)], { arrival });
    expect(p.apply.totals).toMatchObject({ events: 2, duplicatesSkipped: 0, unchecked: 2 });
    expect(counters(p).map((c) => c[5])).toEqual([2, 2, 2]);
  });

  it('hands invalid records to the DLQ with their offset and reason', () => {
    const p = plan(values);
    expect(p.invalid).toEqual([
      expect.objectContaining({ offset: 103, value: '{"id": "broken', reason: 'not_json' }),
      expect.objectContaining({ offset: 104, value: null, reason: 'not_json' }),
    ]);
    expect(Object.fromEntries(p.invalidByReason)).toEqual({ not_json: 2 });
  });

  it('hands hostile records (5,000 deep, a 500,000-character url) to the DLQ as bad_field and applies the valid ones', () => {
    const deep = `{"id":"deep","ts":${T0},"type":"pageview","url":"/a","x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const long = pv('long', T0, `/${'x'.repeat(499_999)}`);
    const p = plan([pv('a', T0), deep, long, pv('b', T0)]);
    expect(p.invalid.map((r) => [r.offset, r.reason, r.value === deep || r.value === long])).toEqual([
      [101, 'bad_field', true],
      [102, 'bad_field', true],
    ]);
    expect(p.invalid[1]?.message).toBe('field "url" is 500000 characters long; at most 1024 (view "pageviews")');
    expect(Object.fromEntries(p.invalidByReason)).toEqual({ bad_field: 2 });
    expect(p.apply.totals).toMatchObject({ events: 2, invalid: 2 });
  });

  it('counts an event late in each group whose bucket is behind floor_g(W)', () => {
    // W = 12:00:30: the 11:50 event is late at minute and hour granularity (hour 11:00 < 12:00), not
    // at day; the 12:00 events are in the boundary buckets themselves, so not late.
    const p = plan(values, { watermark: T0 + 30_000 });
    expect(p.apply.totals.late).toBe(1);
    expect(counters(p)).toEqual([
      ['pageviews', 'minute', T0 - 10 * MINUTE_MS, 1, 0, 0],
      ['pageviews', 'hour', T0 - 60 * MINUTE_MS, 1, 0, 0],
    ]);
  });

  it('keeps the first copy of each event that arrived later than the allowed lateness, per group, with its offset and arrival', () => {
    // Arrival T0 + 1 s; allowed lateness 60 s: only the 11:50 event (10 minutes old) is late-class.
    const p = plan(values, { dedupe: false });
    expect(p.apply.lateClass.map((e) => [e.group.granularity, e.group.bucketStart, e.offset, e.arrival])).toEqual([
      ['minute', T0 - 10 * MINUTE_MS, 105, T0 + 1000],
      ['hour', T0 - HOUR_MS, 105, T0 + 1000],
      ['day', T0 - 12 * HOUR_MS, 105, T0 + 1000],
    ]);
    // A late copy of an id another copy owns is a duplicate, not an event a batch run may lack.
    const claims = new MemoryClaims();
    plan([pv('c', T0 - 10 * MINUTE_MS)], { claims, partition: 0 });
    expect(plan([pv('c', T0 - 10 * MINUTE_MS)], { claims, partition: 1, dedupe: false }).apply.lateClass).toEqual([]);
  });

  it('records a lost range and moves coveredSince past it, never backwards', () => {
    const parsed = parseRecords(records([pv('a', T0)], 120), views);
    const req = claimRequests(parsed, WINDOW);
    const lost = { from: 100, to: 120, untilTs: T0 + 1000 };
    const base = {
      partition: 3,
      records: parsed,
      claims: req.flags,
      expectedNext: 100,
      views,
      dedupe: true,
      watermark: null,
      allowedLatenessMs: 60_000,
      lost,
      nowMs: T0,
    };
    expect(planBatch({ ...base, coveredSince: 0 }).apply).toMatchObject({ lost, coveredSince: T0 + 1000 });
    expect(planBatch({ ...base, coveredSince: T0 + 5000 }).apply.coveredSince).toBe(T0 + 5000);
  });

  it('pre-aggregates to exactly the reference fold (no duplicates across batches)', () => {
    const gen = clickstream({ seed: 5, startTs: T0, rate: 20, duplicateFraction: 0.05, invalidFraction: 0.02, lateFraction: 0.05 });
    const raw: string[] = [];
    for (const r of gen) {
      raw.push(r.value);
      if (raw.length === 2000) break;
    }
    const p = plan(raw);
    const expected = referenceFold(raw, views);
    const got = new Map<string, Record<string, number | null>>();
    for (const g of p.apply.groups) {
      const view = views.byName[g.view];
      if (view === undefined) throw new Error(g.view);
      got.set(groupKey(g.view, g.granularity, g.bucketStart, g.dims), finalizeMeasures(view, g.measures));
    }
    expect(got).toEqual(expected);
  });
});

describe('coverageStart', () => {
  const now = Date.UTC(2024, 4, 2, 15, 30);
  it('covers from the start of the previous UTC day by default', () => {
    expect(coverageStart('day-before', now)).toEqual({ seekTimestamp: Date.UTC(2024, 4, 1), coveredSince: Date.UTC(2024, 4, 1) });
    expect(coverageStart('day-before', Date.UTC(2024, 4, 2))).toEqual({ seekTimestamp: Date.UTC(2024, 4, 2) - DAY_MS, coveredSince: Date.UTC(2024, 4, 1) });
  });
  it('covers everything from the log start with earliest, and only the future with now', () => {
    expect(coverageStart('earliest', now)).toEqual({ seekTimestamp: 0, coveredSince: 0 });
    expect(coverageStart('now', now)).toEqual({ seekTimestamp: now, coveredSince: now });
  });
});
