import { describe, it, expect } from 'vitest';
import { dimsKey, referenceFold, referenceTotals, validDeduped } from '../../shared/reference-fold.js';
import { groupKey } from '../../shared/aggregate/aggregate.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { isLambdaError } from '../../shared/errors.js';

const vs = defaultViewSet();
const H = Date.UTC(2024, 5, 1, 9); // 09:00 UTC
const M = 60_000;

const records: unknown[] = [
  { id: 'a', ts: H, type: 'pageview', url: '/x', user: 'u1' },
  '{"id":"b","ts":"2024-06-01T09:00:30Z","type":"pageview","url":"/x","user":"u2"}',
  { id: 'a', ts: H + 5 * M, type: 'pageview', url: '/y', user: 'u9' }, // duplicate id: dropped, first kept
  { id: 'c', ts: H + M, type: 'pageview', url: '/x', user: 'u1' },
  { id: 'd', ts: '2024-06-01T09:01:00' }, // no zone: invalid
  { id: 'e', ts: H, type: 'purchase', amount: 'x' }, // bad_field: invalid...
  { id: 'e', ts: H + 2 * M, type: 'purchase', country: 'DE', amount: 10.1 }, // ...so this one is the first valid "e"
  { id: 'f', ts: H + 2 * M, type: 'purchase', country: 'DE', amount: 0.2 },
  { id: 'g', ts: H + 3 * M, type: 'purchase', country: 'DE' },
  'garbage',
];

describe('referenceFold', () => {
  it('drops invalid records, keeps the first valid occurrence of each id', () => {
    expect(validDeduped(records, vs).map((e) => `${e.id}@${(e.ts - H) / M}`)).toEqual(['a@0', 'b@0.5', 'c@1', 'e@2', 'f@2', 'g@3']);
  });

  it('drops hostile records (too deep, a too long dimension) like any invalid one, so they cannot hide a valid id', () => {
    const hostile: unknown[] = [
      `{"id":"h","ts":${H},"type":"pageview","url":"/x","x":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      { id: 'h', ts: H, type: 'pageview', url: 'u'.repeat(500_000), user: 'u1' },
      { id: 'h', ts: H + M, type: 'pageview', url: '/h', user: 'u1' },
    ];
    expect(validDeduped(hostile, vs).map((e) => `${e.id}@${(e.ts - H) / M}`)).toEqual(['h@1']);
    expect(referenceFold(hostile, vs).get(groupKey('pageviews', 'minute', H + M, ['/h']))).toEqual({ views: 1, visitors: 1 });
    expect(referenceFold(hostile, vs).size).toBe(3);
  });

  it('folds to hand-computed values', () => {
    const f = referenceFold(records, vs);
    expect(f.get(groupKey('pageviews', 'minute', H, ['/x']))).toEqual({ views: 2, visitors: 2 });
    expect(f.get(groupKey('pageviews', 'minute', H + M, ['/x']))).toEqual({ views: 1, visitors: 1 });
    expect(f.get(groupKey('pageviews', 'hour', H, ['/x']))).toEqual({ views: 3, visitors: 2 });
    expect(f.has(groupKey('pageviews', 'minute', H + 5 * M, ['/y']))).toBe(false);
    expect(f.get(groupKey('revenue', 'minute', H + 2 * M, ['DE']))).toEqual({ purchases: 2, revenue: 10.3, max_order: 10.1 });
    expect(f.get(groupKey('revenue', 'minute', H + 3 * M, ['DE']))).toEqual({ purchases: 1, revenue: 0, max_order: null });
    expect(f.get(groupKey('revenue', 'day', Date.UTC(2024, 5, 1), ['DE']))).toEqual({ purchases: 3, revenue: 10.3, max_order: 10.1 });
    // 2 pageview minutes + 1 hour + 1 day; 2 revenue minutes + 1 hour + 1 day
    expect(f.size).toBe(8);
  });
});

describe('referenceTotals', () => {
  it('adds counts and sums; distinct is exact over the range, not a sum of buckets', () => {
    const t = referenceTotals(records, vs, { view: 'pageviews', granularity: 'minute', from: H, to: H + 10 * M });
    // per-minute visitors are 2 and 1 (sum 3), but there are only 2 distinct users
    expect(t.get(dimsKey(['/x']))).toEqual({ views: 3, visitors: 2 });
    const r = referenceTotals(records, vs, { view: 'revenue', granularity: 'minute', from: H, to: H + 10 * M });
    expect(r.get(dimsKey(['DE']))).toEqual({ purchases: 3, revenue: 10.3, max_order: 10.1 });
  });

  it('includes the bucket containing `from` and excludes the bucket starting at `to`', () => {
    const t = referenceTotals(records, vs, { view: 'pageviews', granularity: 'minute', from: H + 30_000, to: H + M });
    expect(t.get(dimsKey(['/x']))).toEqual({ views: 2, visitors: 2 });
  });

  it('filters on dimension values and validates the query', () => {
    expect(referenceTotals(records, vs, { view: 'pageviews', granularity: 'hour', from: H, to: H + 3_600_000, filter: { url: '/nope' } }).size).toBe(0);
    expect(referenceTotals(records, vs, { view: 'pageviews', granularity: 'hour', from: H, to: H + 3_600_000, filter: { url: '/x' } }).size).toBe(1);
    for (const q of [
      { view: 'nope', granularity: 'hour', from: 0, to: 1 },
      { view: 'pageviews', granularity: 'hour', from: 0, to: 1, filter: { country: 'DE' } },
    ] as const) {
      let err: unknown;
      try {
        referenceTotals(records, vs, q);
      } catch (e) {
        err = e;
      }
      expect(isLambdaError(err)).toBe(true);
    }
  });
});
