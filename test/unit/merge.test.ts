import { describe, it, expect } from 'vitest';
import { chooseSource, drift, incompleteBuckets, servingBoundary } from '../../shared/merge.js';
import { bucketsInRange, DAY_MS, HOUR_MS } from '../../shared/time.js';

const D = Date.UTC(2024, 6, 10);

describe('serving boundary and source', () => {
  it('B_g = floor_g(W)', () => {
    const W = D + 13 * HOUR_MS + 37 * 60_000;
    expect(servingBoundary(W, 'minute')).toBe(W);
    expect(servingBoundary(W, 'hour')).toBe(D + 13 * HOUR_MS);
    expect(servingBoundary(W, 'day')).toBe(D);
    expect(servingBoundary(null, 'hour')).toBeNull();
  });

  it('start < B -> batch; start >= B -> speed; no batch run -> speed', () => {
    const B = D + 13 * HOUR_MS;
    expect(chooseSource(B - HOUR_MS, B)).toBe('batch');
    expect(chooseSource(B - 1, B)).toBe('batch');
    expect(chooseSource(B, B)).toBe('speed');
    expect(chooseSource(B + HOUR_MS, B)).toBe('speed');
    expect(chooseSource(0, null)).toBe('speed');
  });
});

describe('incompleteBuckets', () => {
  const buckets = bucketsInRange(D, D + 6 * HOUR_MS, 'hour'); // 00:00 .. 05:00
  const B = D + 3 * HOUR_MS;

  it('is empty when speed covers everything after the boundary', () => {
    expect(incompleteBuckets(buckets, { boundary: B, coveredSince: D, g: 'hour', speedRetentionMs: DAY_MS, now: D + 6 * HOUR_MS })).toEqual([]);
    // coveredSince exactly at B is enough: speed buckets start at B
    expect(incompleteBuckets(buckets, { boundary: B, coveredSince: B, g: 'hour', speedRetentionMs: DAY_MS })).toEqual([]);
  });

  it('flags speed buckets that start before coveredSince, never batch buckets', () => {
    const out = incompleteBuckets(buckets, { boundary: B, coveredSince: B + 30 * 60_000, g: 'hour', speedRetentionMs: DAY_MS });
    expect(out).toEqual([{ bucketStart: B, source: 'speed', reason: 'speed_not_covered' }]);
  });

  it('without a batch run every bucket before coveredSince is flagged; unknown coverage flags all', () => {
    const out = incompleteBuckets(buckets, { boundary: null, coveredSince: D + 2 * HOUR_MS, g: 'hour', speedRetentionMs: DAY_MS });
    expect(out.map((o) => (o.bucketStart - D) / HOUR_MS)).toEqual([0, 1]);
    expect(incompleteBuckets(buckets, { boundary: B, coveredSince: null, g: 'hour', speedRetentionMs: DAY_MS })).toHaveLength(3);
  });

  it('flags speed buckets whose keys may have expired (batch older than the retention)', () => {
    const retention = 2 * HOUR_MS;
    // bucket 03:00 ends 04:00; with 2h retention it may be gone from 06:00 on
    const opts = { boundary: B, coveredSince: D, g: 'hour' as const, speedRetentionMs: retention };
    expect(incompleteBuckets(buckets, { ...opts, now: D + 6 * HOUR_MS - 1 })).toEqual([]);
    expect(incompleteBuckets(buckets, { ...opts, now: D + 6 * HOUR_MS })).toEqual([{ bucketStart: B, source: 'speed', reason: 'speed_expired' }]);
    // batchRunAt stands in for the clock when now is not given
    expect(incompleteBuckets(buckets, { ...opts, batchRunAt: D + 7 * HOUR_MS }).map((o) => o.bucketStart)).toEqual([B, B + HOUR_MS]);
  });
});

describe('drift', () => {
  it('absolute and relative difference', () => {
    expect(drift(100, 103)).toEqual({ diff: 3, abs: 3, rel: 0.03 });
    expect(drift(100, 97)).toEqual({ diff: -3, abs: 3, rel: 0.03 });
    expect(drift(5, 5)).toEqual({ diff: 0, abs: 0, rel: 0 });
  });

  it('zero batch: both zero -> 0; speed non-zero -> rel null', () => {
    expect(drift(0, 0)).toEqual({ diff: 0, abs: 0, rel: 0 });
    expect(drift(0, 4)).toEqual({ diff: 4, abs: 4, rel: null });
  });

  it('null values (min/max of nothing)', () => {
    expect(drift(null, null)).toEqual({ diff: 0, abs: 0, rel: 0 });
    expect(drift(null, 3)).toEqual({ diff: null, abs: null, rel: null });
    expect(drift(3, null)).toEqual({ diff: null, abs: null, rel: null });
  });

  it('exact on decimals when told the scale', () => {
    expect(19.99 - 9.99).not.toBe(10);
    expect(drift(9.99, 19.99, 2).diff).toBe(10);
    expect(drift(0.1, 0.3, 2).abs).toBe(0.2);
    expect(Object.is(drift(0.3, 0.3, 2).diff, 0)).toBe(true);
  });
});
