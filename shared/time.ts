/**
 * Event time and UTC bucketing. Every layer buckets with the same function so a
 * bucket means the same thing in batch, speed and serving (docs/design-decisions.md §3:
 * bucketStart = floor(ts / g) * g, in UTC epoch milliseconds).
 */
import { LambdaError } from './errors.js';

export type Granularity = 'minute' | 'hour' | 'day';

/** Ordered from fine to coarse; other code relies on this order. */
export const GRANULARITIES: readonly Granularity[] = Object.freeze(['minute', 'hour', 'day'] as const);

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Last millisecond of year 9999 UTC: the largest event time we accept. */
export const MAX_EVENT_TS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function isGranularity(v: unknown): v is Granularity {
  return v === 'minute' || v === 'hour' || v === 'day';
}

export function granularityMs(g: Granularity): number {
  switch (g) {
    case 'minute':
      return MINUTE_MS;
    case 'hour':
      return HOUR_MS;
    case 'day':
      return DAY_MS;
  }
}

function assertTimestamp(ts: number, what: string): void {
  // Negative times never come out of parseEventTime; a negative here is a bug
  // upstream, and silently flooring it would put data in a bucket nobody queries.
  if (!Number.isSafeInteger(ts) || ts < 0) {
    throw new LambdaError('VALIDATION', `${what} must be a non-negative integer epoch-ms, got ${String(ts)}`);
  }
}

/** floor(ts / g) * g. Days are UTC days (epoch ms has no leap seconds, so every day is 86 400 000 ms). */
export function floorTo(ts: number, g: Granularity): number {
  assertTimestamp(ts, 'timestamp');
  const ms = granularityMs(g);
  return Math.floor(ts / ms) * ms;
}

export function floorToMinute(ts: number): number {
  return floorTo(ts, 'minute');
}

/**
 * Bucket starts covering [from, to): the first is floorTo(from, g) (a partially
 * covered first bucket is included, as Druid/Pinot do for unaligned intervals),
 * the last is the bucket containing to - 1. Empty when from >= to.
 * `maxBuckets` guards against a query that would allocate millions of entries.
 */
export function bucketsInRange(from: number, to: number, g: Granularity, maxBuckets = 1_000_000): number[] {
  assertTimestamp(from, 'from');
  assertTimestamp(to, 'to');
  if (from >= to) return [];
  const ms = granularityMs(g);
  const first = floorTo(from, g);
  const n = Math.ceil((to - first) / ms);
  if (n > maxBuckets) {
    throw new LambdaError('VALIDATION', `range covers ${n} ${g} buckets, more than the limit of ${maxBuckets}`, {
      details: { from, to, granularity: g, buckets: n, maxBuckets },
    });
  }
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = first + i * ms;
  return out;
}

// YYYY-MM-DDTHH:MM[:SS[.fraction]](Z|±HH:MM|±HHMM|±HH). Lower-case t/z are accepted
// as RFC 3339 allows. A date-only or zone-less string is rejected: its meaning
// depends on the reader's local zone, and batch and speed must agree. Exported for the batch
// job's SQL (shared/sql/event-sql.ts), which runs this very pattern (RE2 reads it as JS does).
export const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Event time -> epoch ms, or a reason it is not acceptable.
 * - number: a JSON integer epoch-ms in [0, end of year 9999].
 * - string: ISO-8601 date-time WITH an explicit zone. Fractions below 1 ms are
 *   truncated (floored), matching how the value would land in a minute bucket.
 * Numeric strings ("1700000000000") are rejected: epoch ms must be a number, so a
 * producer that stringifies by mistake is told so instead of being guessed at.
 */
export function parseEventTime(v: unknown): number | { error: string } {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return { error: 'ts must be a finite number' };
    if (!Number.isInteger(v)) return { error: `ts must be an integer number of epoch milliseconds, got ${v}` };
    if (v < 0) return { error: `ts must not be negative (before 1970), got ${v}` };
    if (v > MAX_EVENT_TS) return { error: `ts is beyond the year 9999, got ${v}` };
    return v;
  }
  if (typeof v !== 'string') {
    return {
      error: `ts must be epoch milliseconds (number) or an ISO-8601 string with zone, got ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}`,
    };
  }
  if (/^-?\d+(\.\d+)?$/.test(v)) {
    return { error: `ts "${v}" is a numeric string; send epoch milliseconds as a JSON number or use ISO-8601 with zone` };
  }
  const m = ISO_RE.exec(v);
  if (m === null) return { error: `ts "${clip(v)}" is not an ISO-8601 date-time (expected e.g. 2024-05-01T12:00:00Z)` };
  const [, ys, mos, ds, hs, mis, ss, frac, z, sign, ohs, oms] = m;
  if (z === undefined && sign === undefined) {
    return { error: `ts "${clip(v)}" has no time zone; add Z or an offset like +02:00` };
  }
  const year = Number(ys);
  const month = Number(mos);
  const day = Number(ds);
  const hour = Number(hs);
  const minute = Number(mis);
  const second = ss === undefined ? 0 : Number(ss);
  if (month < 1 || month > 12) return { error: `ts "${clip(v)}" has month ${month}` };
  if (day < 1 || day > daysInMonth(year, month)) return { error: `ts "${clip(v)}" has day ${day} for month ${month}` };
  // 24:00 and leap second 60 are rejected: epoch ms cannot represent a leap second.
  if (hour > 23 || minute > 59 || second > 59) return { error: `ts "${clip(v)}" has an out-of-range time of day` };
  let offsetMin = 0;
  if (sign !== undefined) {
    const oh = Number(ohs);
    const om = oms === undefined ? 0 : Number(oms);
    if (oh > 23 || om > 59) return { error: `ts "${clip(v)}" has an out-of-range zone offset` };
    offsetMin = (sign === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  // Checked before Date.UTC, which maps years 0..99 to 1900..1999. A zone offset
  // moves time by < 1 day, so any year before 1969 is before the epoch.
  if (year < 1969) return { error: `ts "${clip(v)}" is before 1970-01-01T00:00:00Z` };
  const ts = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * MINUTE_MS;
  if (ts < 0) return { error: `ts "${clip(v)}" is before 1970-01-01T00:00:00Z` };
  if (ts > MAX_EVENT_TS) return { error: `ts "${clip(v)}" is beyond the year 9999` };
  return ts;
}

function clip(s: string): string {
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
}
