import { describe, it, expect } from 'vitest';
import { DAY_MS, GRANULARITIES, HOUR_MS, MAX_EVENT_TS, bucketsInRange, floorTo, floorToMinute, granularityMs, parseEventTime } from '../../shared/time.js';
import { isLambdaError } from '../../shared/errors.js';

describe('parseEventTime', () => {
  const accept: [unknown, number][] = [
    [0, 0],
    [1_700_000_000_123, 1_700_000_000_123],
    [MAX_EVENT_TS, MAX_EVENT_TS],
    ['2024-05-01T12:00:00Z', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T12:00:00.123Z', Date.UTC(2024, 4, 1, 12, 0, 0, 123)],
    ['2024-05-01T12:00:00.1239Z', Date.UTC(2024, 4, 1, 12, 0, 0, 123)], // sub-ms truncated
    ['2024-05-01T12:00Z', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T14:30:00+02:00', Date.UTC(2024, 4, 1, 12, 30)],
    ['2024-05-01T07:00:00-05:00', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T14:30:00+0200', Date.UTC(2024, 4, 1, 12, 30)],
    ['2024-05-01t12:00:00z', Date.UTC(2024, 4, 1, 12)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['1970-01-01T00:00:00Z', 0],
    ['1970-01-01T01:00:00+01:00', 0],
    ['9999-12-31T23:59:59.999Z', MAX_EVENT_TS],
  ];
  it.each(accept)('accepts %j', (input, want) => {
    expect(parseEventTime(input)).toBe(want);
  });

  const reject: [unknown, RegExp][] = [
    [1.5, /integer/],
    [-1, /negative/],
    [MAX_EVENT_TS + 1, /9999/],
    [Number.NaN, /finite/],
    [Number.POSITIVE_INFINITY, /finite/],
    ['2024-05-01T12:00:00', /no time zone/],
    ['2024-05-01T12:00', /no time zone/],
    ['2024-05-01', /not an ISO-8601/],
    ['2024-05-01 12:00:00Z', /not an ISO-8601/],
    ['1700000000000', /numeric string/],
    ['yesterday', /not an ISO-8601/],
    ['2023-02-29T00:00:00Z', /day 29/],
    ['2024-13-01T00:00:00Z', /month 13/],
    ['2024-05-01T24:00:00Z', /out-of-range time/],
    ['2024-05-01T12:00:60Z', /out-of-range time/],
    ['2024-05-01T12:00:00+25:00', /offset/],
    ['1969-12-31T23:59:59Z', /before 1970/],
    ['0099-01-01T00:00:00Z', /before 1970/], // Date.UTC would map year 99 to 1999
    ['9999-12-31T23:59:59-01:00', /9999/],
    [null, /null/],
    [true, /boolean/],
    [{}, /object/],
    [[1], /array/],
  ];
  it.each(reject)('rejects %j', (input, why) => {
    const r = parseEventTime(input);
    expect(typeof r).toBe('object');
    expect((r as { error: string }).error).toMatch(why);
  });
});

describe('bucketing', () => {
  it('granularities are ordered fine to coarse', () => {
    expect(GRANULARITIES).toEqual(['minute', 'hour', 'day']);
    expect(GRANULARITIES.map(granularityMs)).toEqual([60_000, HOUR_MS, DAY_MS]);
  });

  it('floors to exact UTC boundaries', () => {
    const t = Date.UTC(2024, 4, 1, 13, 45, 30, 500);
    expect(floorTo(t, 'minute')).toBe(Date.UTC(2024, 4, 1, 13, 45));
    expect(floorTo(t, 'hour')).toBe(Date.UTC(2024, 4, 1, 13));
    expect(floorTo(t, 'day')).toBe(Date.UTC(2024, 4, 1));
    expect(floorToMinute(t)).toBe(Date.UTC(2024, 4, 1, 13, 45));
  });

  it('a boundary belongs to the bucket it starts; one ms before belongs to the previous', () => {
    const b = Date.UTC(2024, 4, 2);
    for (const g of GRANULARITIES) {
      expect(floorTo(b, g)).toBe(b);
      expect(floorTo(b - 1, g)).toBe(b - granularityMs(g));
    }
    expect(floorTo(0, 'day')).toBe(0);
  });

  it('rejects negative and non-integer timestamps', () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      let err: unknown;
      try {
        floorTo(bad, 'minute');
      } catch (e) {
        err = e;
      }
      expect(isLambdaError(err) && err.code === 'VALIDATION').toBe(true);
    }
  });

  it('bucketsInRange covers [from, to)', () => {
    const h = Date.UTC(2024, 0, 1, 10);
    expect(bucketsInRange(h, h + 3 * HOUR_MS, 'hour')).toEqual([h, h + HOUR_MS, h + 2 * HOUR_MS]);
    // unaligned from: the partially covered first bucket is included
    expect(bucketsInRange(h + 1, h + 2 * HOUR_MS, 'hour')).toEqual([h, h + HOUR_MS]);
    // unaligned to: the bucket containing to - 1 is the last one
    expect(bucketsInRange(h, h + HOUR_MS + 1, 'hour')).toEqual([h, h + HOUR_MS]);
    // to exactly on a boundary is excluded
    expect(bucketsInRange(h, h + HOUR_MS, 'hour')).toEqual([h]);
    expect(bucketsInRange(h, h, 'hour')).toEqual([]);
    expect(bucketsInRange(h + 5, h, 'hour')).toEqual([]);
    expect(bucketsInRange(h, h + DAY_MS, 'minute')).toHaveLength(1440);
  });

  it('bucketsInRange refuses ranges that are too large', () => {
    expect(() => bucketsInRange(0, DAY_MS * 10, 'minute', 1000)).toThrow(/more than the limit/);
  });
});
