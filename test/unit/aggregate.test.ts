import { describe, it, expect } from 'vitest';
import { Aggregate, groupKey, type PlainAggregate } from '../../shared/aggregate/aggregate.js';
import { finalizeMeasures } from '../../shared/aggregate/finalize.js';
import { parseEventLine, validateEvent, type LambdaEvent } from '../../shared/events.js';
import { referenceFold } from '../../shared/reference-fold.js';
import { loadViews, getView } from '../../shared/views/load.js';
import { defaultViewSet, defaultViewsDocument } from '../../shared/views/default-views.js';
import type { ViewSet } from '../../shared/views/definition.js';
import { DAY_MS } from '../../shared/time.js';
import { rand, type Rand } from './_prng.js';

/** Default views plus one that exercises every measure kind, booleans, no filter, decimals 0. */
const views: ViewSet = loadViews(
  JSON.stringify({
    views: [
      ...defaultViewsDocument.views,
      {
        name: 'everything',
        dimensions: ['type', 'mobile'],
        measures: {
          n: { type: 'count' },
          qty: { type: 'sum', field: 'qty', decimals: 0 },
          lo: { type: 'min', field: 'amount', decimals: 2 },
          hi: { type: 'max', field: 'amount' },
          users: { type: 'distinct', field: 'user' },
          spend: { type: 'sum', field: 'amount', decimals: 3 },
        },
        granularities: ['hour', 'day'],
      },
      { name: 'totals', measures: { n: { type: 'count' } }, granularities: ['day'] },
    ],
  }),
  'test-views.json',
);

const T0 = Date.UTC(2024, 2, 30, 22); // crosses a day boundary within the range

/** Random records as JSON lines or objects, with duplicates (same and different content) and invalid ones. */
function randomRecords(r: Rand, n: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const roll = r.next();
    if (roll < 0.04) {
      out.push(r.pick(['{"id":', 'not json', '[]', '"str"', '{"ts": 5}', '{"id":"x","ts":"2024-03-30T10:00:00"}']));
      continue;
    }
    const type = r.pick(['pageview', 'pageview', 'purchase', 'signup']);
    const body: Record<string, unknown> = {
      id: `e${r.int(0, Math.floor(n * 0.8))}`, // ~20%+ duplicate ids
      ts: r.chance(0.3) ? new Date(T0 + r.int(0, 2 * DAY_MS)).toISOString() : T0 + r.int(0, 2 * DAY_MS),
      type,
    };
    if (r.chance(0.9)) body.url = r.pick(['/', '/a', '/b"quoted', '/c,d', 'null', '']);
    if (r.chance(0.9)) body.user = r.chance(0.5) ? `u${r.int(0, 40)}` : r.int(0, 40);
    if (r.chance(0.8)) body.country = r.pick(['DE', 'FR', 'US', null]);
    if (r.chance(0.7)) body.mobile = r.pick([true, false, 1, 'yes']);
    if (r.chance(0.8)) body.amount = r.chance(0.1) ? null : r.int(-500, 100_000) / 100;
    if (r.chance(0.5)) body.qty = r.int(0, 5);
    if (roll > 0.97) body.amount = r.pick(['12', 1.005, { v: 1 }]); // bad_field when a reading view matches
    if (roll > 0.985) body.user = [1];
    out.push(r.chance(0.5) ? JSON.stringify(body) : body);
  }
  return out;
}

/** Independent of reference-fold's helper on purpose: valid events, first occurrence per id. */
function dedupedValid(records: unknown[], vs: ViewSet): LambdaEvent[] {
  const seen = new Set<string>();
  const out: LambdaEvent[] = [];
  for (const rec of records) {
    const res = typeof rec === 'string' ? parseEventLine(rec, vs) : validateEvent(rec, vs);
    if (res.ok && !seen.has(res.event.id)) {
      seen.add(res.event.id);
      out.push(res.event);
    }
  }
  return out;
}

function finalized(agg: Aggregate, vs: ViewSet): Map<string, Record<string, number | null>> {
  const m = new Map<string, Record<string, number | null>>();
  for (const g of agg.groups()) {
    const view = getView(vs, g.view);
    if (view === undefined) throw new Error(`unknown view ${g.view}`);
    m.set(groupKey(g.view, g.granularity, g.bucketStart, g.dims), finalizeMeasures(view, g.measures));
  }
  return m;
}

describe('Aggregate', () => {
  it.each([1, 2, 3, 4, 5])('equals the reference fold on randomized input (seed %i)', (seed) => {
    const r = rand(seed * 104729);
    const records = randomRecords(r, 1500);
    const events = dedupedValid(records, views);
    expect(events.length).toBeGreaterThan(500);
    expect(events.length).toBeLessThan(records.length); // duplicates and invalid records were present

    const whole = new Aggregate();
    for (const e of events) whole.add(e, views);
    const ref = referenceFold(records, views);
    expect(whole.size).toBe(ref.size);
    expect(finalized(whole, views)).toEqual(ref);

    // map per "file", ship each partial through the plain form (as worker_threads
    // would), merge in a shuffled order: same answer
    const parts: PlainAggregate[] = [];
    for (let i = 0; i < events.length;) {
      const n = r.int(1, 200);
      const a = new Aggregate();
      for (const e of events.slice(i, i + n)) a.add(e, views);
      parts.push(structuredClone(a.toPlain()));
      i += n;
    }
    for (let i = parts.length - 1; i > 0; i--) {
      const j = r.int(0, i);
      [parts[i], parts[j]] = [parts[j] as PlainAggregate, parts[i] as PlainAggregate];
    }
    const merged = new Aggregate();
    for (const p of parts) merged.mergeFrom(Aggregate.fromPlain(p));
    expect(finalized(merged, views)).toEqual(ref);
  });

  it('computes hand-checked values', () => {
    const vs = defaultViewSet();
    const h = Date.UTC(2024, 0, 1, 10);
    const agg = new Aggregate();
    const lines = [
      { id: '1', ts: h + 1000, type: 'purchase', country: 'DE', amount: 19.99 },
      { id: '2', ts: h + 61_000, type: 'purchase', country: 'DE', amount: 0.01 },
      { id: '3', ts: h + 62_000, type: 'purchase', country: 'DE' },
      { id: '4', ts: h + 3_600_000, type: 'purchase', country: 'DE', amount: 5 },
      { id: '5', ts: h, type: 'pageview', url: '/a', user: 7 },
      { id: '6', ts: h, type: 'pageview', url: '/a', user: '7' },
      { id: '7', ts: h, type: 'pageview', user: 'x' },
    ];
    for (const l of lines) {
      const res = validateEvent(l, vs);
      if (!res.ok) throw new Error(res.message);
      agg.add(res.event, vs);
    }
    const f = finalized(agg, vs);
    expect(f.get(groupKey('revenue', 'hour', h, ['DE']))).toEqual({ purchases: 3, revenue: 20, max_order: 19.99 });
    expect(f.get(groupKey('revenue', 'minute', h + 60_000, ['DE']))).toEqual({ purchases: 2, revenue: 0.01, max_order: 0.01 });
    expect(f.get(groupKey('revenue', 'day', Date.UTC(2024, 0, 1), ['DE']))).toEqual({ purchases: 4, revenue: 25, max_order: 19.99 });
    expect(f.get(groupKey('pageviews', 'minute', h, ['/a']))).toEqual({ views: 2, visitors: 1 }); // 7 and "7" are one visitor
    expect(f.get(groupKey('pageviews', 'minute', h, [null]))).toEqual({ views: 1, visitors: 1 });
    // 2 revenue minutes + 2 hours + 1 day; pageviews: 2 dims x 3 granularities
    expect(agg.size).toBe(3 + 2 + 1 + 6);
  });

  it('toPlain/fromPlain round-trips (through structuredClone and JSON)', () => {
    const r = rand(99);
    const agg = new Aggregate();
    for (const e of dedupedValid(randomRecords(r, 400), views)) agg.add(e, views);
    const plain = agg.toPlain();
    expect(plain.groups.every((g) => Object.values(g.measures).every((m) => !((m as object) instanceof Set)))).toBe(true);
    const viaClone = Aggregate.fromPlain(structuredClone(plain));
    const viaJson = Aggregate.fromPlain(JSON.parse(JSON.stringify(plain)) as PlainAggregate);
    expect(viaClone.toPlain()).toEqual(plain);
    expect(viaJson.toPlain()).toEqual(plain);
    expect(finalized(viaJson, views)).toEqual(finalized(agg, views));
  });

  it('mergeFrom leaves the source untouched and shares no state', () => {
    const vs = defaultViewSet();
    const mk = (id: string, user: string): LambdaEvent => {
      const res = validateEvent({ id, ts: 0, type: 'pageview', url: '/', user }, vs);
      if (!res.ok) throw new Error(res.message);
      return res.event;
    };
    const a = new Aggregate();
    a.add(mk('1', 'u1'), vs);
    const b = new Aggregate();
    b.mergeFrom(a);
    b.add(mk('2', 'u2'), vs);
    expect(finalized(a, vs).get(groupKey('pageviews', 'minute', 0, ['/']))).toEqual({ views: 1, visitors: 1 });
    expect(finalized(b, vs).get(groupKey('pageviews', 'minute', 0, ['/']))).toEqual({ views: 2, visitors: 2 });
  });

  it('refuses to merge partials built from different definitions', () => {
    const a = Aggregate.fromPlain({
      version: 1,
      groups: [{ view: 'v', granularity: 'day', bucketStart: 0, dims: [], measures: { n: { kind: 'count', n: 1 } } }],
    });
    const b = Aggregate.fromPlain({
      version: 1,
      groups: [{ view: 'v', granularity: 'day', bucketStart: 0, dims: [], measures: { m: { kind: 'count', n: 1 } } }],
    });
    expect(() => a.mergeFrom(b)).toThrow(/different measures/);
  });
});

describe('groupKey', () => {
  it('cannot be broken by dimension values', () => {
    const tricky: (string | null)[][] = [[null], ['null'], [''], ['a', 'b'], ['a","b'], ['a,b'], ['a\\', 'b'], ['a\\"', 'b'], ['\u0000'], ['🙂'], []];
    const keys = new Set(tricky.map((d) => groupKey('v', 'minute', 0, d)));
    expect(keys.size).toBe(tricky.length);
    for (const d of tricky) expect(JSON.parse(groupKey('v', 'minute', 0, d))).toEqual(['v', 'minute', 0, d]);
    expect(groupKey('v', 'minute', 0, ['x'])).not.toBe(groupKey('v', 'hour', 0, ['x']));
    expect(groupKey('v', 'minute', 0, ['x'])).not.toBe(groupKey('w', 'minute', 0, ['x']));
  });
});
