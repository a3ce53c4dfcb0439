import { describe, expect, it } from 'vitest';
import { maxCronIntervalMs } from '../../shared/cron-interval.js';
import { bucketExpireAtMs, lastExpiredBucketStart, noExpiryBefore, retentionPolicy, speedRetentionMs } from '../../shared/speed/retention.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../shared/time.js';

const SEC = 1000;

describe('maxCronIntervalMs', () => {
  it.each([
    ['* * * * *', MINUTE_MS],
    ['*/5 * * * *', 5 * MINUTE_MS],
    ['0 * * * *', HOUR_MS],
    ['15,45 * * * *', 30 * MINUTE_MS],
    ['0,10 * * * *', 50 * MINUTE_MS],
    ['0 0 * * *', DAY_MS],
    ['30 2 * * *', DAY_MS],
    ['0 0,6 * * *', 18 * HOUR_MS],
    ['*/10 * * * * *', 10 * SEC],
    ['0 */15 * * * *', 15 * MINUTE_MS],
    ['0 0 * * 0', 7 * DAY_MS],
    ['0 0 * * SUN', 7 * DAY_MS],
    ['0 0 * * 7', 7 * DAY_MS],
    // Friday 17:00 -> Monday 09:00
    ['0 9-17 * * 1-5', 64 * HOUR_MS],
    ['0 9-17 * * mon-fri', 64 * HOUR_MS],
    ['0 0 1 * *', 31 * DAY_MS],
    // Mar 31 -> May 31 (April has no 31st)
    ['0 0 31 * *', 61 * DAY_MS],
    ['0 0 1 jan *', 366 * DAY_MS],
    // Feb 29: 2096 -> 2104 (2100 is not a leap year)
    ['0 0 29 2 *', (8 * 365 + 1) * DAY_MS],
    // Vixie rule: day-of-month OR day-of-week when both are restricted
    ['0 0 1 * 1', 7 * DAY_MS],
    ['0 0 */2 * *', 2 * DAY_MS],
  ])('%s -> %d ms', (expr, ms) => {
    expect(maxCronIntervalMs(expr)).toBe(ms);
  });

  it.each([
    ['* * * *', /expected 5 or 6 fields/],
    ['61 * * * *', /minute value "61"/],
    ['*/0 * * * *', /bad step/],
    ['0 0 30 2 *', /never fires/],
    ['0 5-1 * * *', /runs backwards/],
    ['0 0 * * funday', /day of week value "funday"/],
  ])('rejects %j with CONFIG_INVALID', (expr, message) => {
    expect(() => maxCronIntervalMs(expr)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(message) }));
  });
});

describe('speed retention', () => {
  const policy = retentionPolicy({ allowedLatenessMs: 60_000, batch: { cron: '*/5 * * * *' } });

  it('derives the batch period from the cron', () => {
    expect(policy).toEqual({ batchPeriodMs: 5 * MINUTE_MS, allowedLatenessMs: 60_000 });
  });

  it('keeps a bucket one bucket length + two batch periods + allowed lateness after its end', () => {
    expect(speedRetentionMs('minute', policy)).toBe(MINUTE_MS + 10 * MINUTE_MS + MINUTE_MS);
    expect(speedRetentionMs('hour', policy)).toBe(HOUR_MS + 10 * MINUTE_MS + MINUTE_MS);
    expect(speedRetentionMs('day', policy)).toBe(DAY_MS + 10 * MINUTE_MS + MINUTE_MS);
    const day = Date.UTC(2024, 4, 1);
    expect(bucketExpireAtMs(day, 'day', policy)).toBe(day + DAY_MS + DAY_MS + 11 * MINUTE_MS);
  });

  it('keeps every bucket at or after the serving boundary whole until the next runs take over', () => {
    // Worst case: W trails now by lateness + two periods; the boundary bucket floor_g(W) must still be there.
    for (const g of ['minute', 'hour', 'day'] as const) {
      const len = g === 'minute' ? MINUTE_MS : g === 'hour' ? HOUR_MS : DAY_MS;
      for (const now of [Date.UTC(2024, 4, 1, 0, 0, 1), Date.UTC(2024, 4, 1, 13, 59, 59, 999)]) {
        const W = now - policy.allowedLatenessMs - 2 * policy.batchPeriodMs;
        const boundary = Math.floor(W / len) * len;
        expect(bucketExpireAtMs(boundary, g, policy)).toBeGreaterThan(now);
      }
    }
  });

  it('trims exactly the buckets whose expiry has passed', () => {
    const now = Date.UTC(2024, 4, 1, 12);
    const cut = lastExpiredBucketStart(now, 'minute', policy);
    expect(bucketExpireAtMs(cut, 'minute', policy)).toBe(now);
    expect(bucketExpireAtMs(cut + MINUTE_MS, 'minute', policy)).toBeGreaterThan(now);
  });
});

describe('noExpiryBefore (the serving cache trusts an unchanged content check until then)', () => {
  const policy = { batchPeriodMs: HOUR_MS, allowedLatenessMs: 10 * MINUTE_MS };
  const from = Date.UTC(2026, 0, 1, 10);
  const to = from + 3 * HOUR_MS; // buckets 10h, 11h, 12h
  const expiry = (k: number) => bucketExpireAtMs(from + k * HOUR_MS, 'hour', policy);
  const skew = 1_000;

  it('is the first bucket expiry still ahead, less the skew; at or below now while one is within the skew', () => {
    expect(noExpiryBefore(from, to, 'hour', policy, from, skew)).toBe(expiry(0) - skew);
    expect(noExpiryBefore(from + 1, to, 'hour', policy, from, skew)).toBe(expiry(0) - skew); // the bucket of from, not the next
    // Within the skew either side of an expiry, Redis may or may not have expired it: no trust.
    expect(noExpiryBefore(from, to, 'hour', policy, expiry(0) - skew, skew)).toBeLessThanOrEqual(expiry(0) - skew);
    expect(noExpiryBefore(from, to, 'hour', policy, expiry(0) + skew - 1, skew)).toBeLessThanOrEqual(expiry(0) + skew - 1);
    // Past it: the next bucket's expiry.
    expect(noExpiryBefore(from, to, 'hour', policy, expiry(0) + skew, skew)).toBe(expiry(1) - skew);
    expect(noExpiryBefore(from, to, 'hour', policy, expiry(2) - 2 * skew, skew)).toBe(expiry(2) - skew);
  });

  it('is Infinity once every bucket of the range has expired (nothing left to change)', () => {
    expect(noExpiryBefore(from, to, 'hour', policy, expiry(2) + skew, skew)).toBe(Infinity);
    expect(noExpiryBefore(from, from, 'hour', policy, from, skew)).toBe(Infinity);
  });
});
