import { describe, expect, it } from 'vitest';
import { parseRecords, planBatch, eventIds, type SourceRecord } from '../../speed-layer/plan.js';
import { coverageStart } from '../../speed-layer/coverage.js';
import { finalizeMeasures } from '../../shared/aggregate/finalize.js';
import { groupKey } from '../../shared/aggregate/aggregate.js';
import { referenceFold } from '../../shared/reference-fold.js';
import { clickstream } from '../../shared/generator/clickstream.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { DAY_MS, MINUTE_MS } from '../../shared/time.js';

const views = defaultViewSet();
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

function pv(id: string, ts: number, url = '/a', user = 'u1'): string {
  return JSON.stringify({ id, ts, type: 'pageview', url, user });
}

function records(values: (string | null)[], firstOffset = 100): SourceRecord[] {
  return values.map((value, i) => ({ offset: firstOffset + i, key: null, value }));
}

function plan(values: (string | null)[], opts: { dedupe?: boolean; seen?: string[]; watermark?: number | null } = {}) {
  return planBatch({
    topic: 'events',
    partition: 3,
    records: parseRecords(records(values), views),
    expectedNext: 100,
    seen: new Set(opts.seen ?? []),
    views,
    dedupe: opts.dedupe ?? true,
    watermark: opts.watermark ?? null,
    nowMs: T0,
  });
}

describe('planBatch', () => {
  const values = [pv('a', T0), pv('b', T0 + 1), pv('a', T0), '{"id": "broken', null, pv('c', T0 - 10 * MINUTE_MS)];

  it('skips repeated ids when dedupe is on, remembers each id once, and ends after the last offset', () => {
    const p = plan(values);
    expect(p.apply.newNext).toBe(106);
    expect(p.apply.expectedNext).toBe(100);
    expect(p.apply.seenIds).toEqual(['a', 'b', 'c']);
    expect(p.apply.totals).toEqual({ events: 3, duplicatesSkipped: 1, duplicatesApplied: 0, late: 0, invalid: 2 });
    const minuteA = p.apply.groups.find((g) => g.view === 'pageviews' && g.granularity === 'minute' && g.bucketStart === T0);
    expect(minuteA?.measures.views).toEqual({ kind: 'count', n: 2 });
    expect(p.apply.counters).toEqual([]);
  });

  it('applies repeated ids when dedupe is off and counts them per group', () => {
    const p = plan(values, { dedupe: false });
    expect(p.apply.totals).toMatchObject({ events: 4, duplicatesSkipped: 0, duplicatesApplied: 1 });
    const minuteA = p.apply.groups.find((g) => g.view === 'pageviews' && g.granularity === 'minute' && g.bucketStart === T0);
    expect(minuteA?.measures.views).toEqual({ kind: 'count', n: 3 });
    expect(p.apply.counters.map((c) => [c.ref.granularity, c.dups, c.late])).toEqual([
      ['minute', 1, 0],
      ['hour', 1, 0],
      ['day', 1, 0],
    ]);
  });

  it('treats ids Redis has seen as duplicates', () => {
    const p = plan([pv('a', T0), pv('z', T0)], { seen: ['a'] });
    expect(p.apply.totals).toMatchObject({ events: 1, duplicatesSkipped: 1 });
    expect(p.apply.seenIds).toEqual(['z']);
  });

  it('sends invalid records to the DLQ with their coordinates and reason', () => {
    const p = plan(values);
    expect(p.deadLetters).toEqual([
      expect.objectContaining({ topic: 'events', partition: 3, offset: 103, value: '{"id": "broken', layer: 'speed', reason: 'not_json' }),
      expect.objectContaining({ offset: 104, value: null, reason: 'not_json' }),
    ]);
    expect(Object.fromEntries(p.invalidByReason)).toEqual({ not_json: 2 });
  });

  it('counts an event late in each group whose bucket is behind floor_g(W)', () => {
    // W = 12:00:30: the 11:50 event is late at minute and hour granularity (hour 11:00 < 12:00), not
    // at day; the 12:00 events are in the boundary buckets themselves, so not late.
    const p = plan(values, { watermark: T0 + 30_000 });
    expect(p.lateEvents).toBe(1);
    expect(p.apply.totals.late).toBe(1);
    expect(p.apply.counters.map((c) => [c.ref.granularity, c.ref.bucketStart, c.late])).toEqual([
      ['minute', T0 - 10 * MINUTE_MS, 1],
      ['hour', T0 - 60 * MINUTE_MS, 1],
    ]);
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

  it('lists each id once for the dedupe look-up', () => {
    expect(eventIds(parseRecords(records(values), views))).toEqual(['a', 'b', 'c']);
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
