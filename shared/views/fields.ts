/**
 * How a view reads one event field. Validation (events.ts) and projection
 * (project.ts) call the same functions, so "valid" means exactly "projectable".
 */
import { scaleNumber } from '../decimal.js';
import { isStorableText, MAX_VALUE_LENGTH, NOT_STORABLE } from '../event-limits.js';
import type { Scalar, ViewDef } from './definition.js';

export interface FieldError {
  error: string;
}

export function isFieldError(v: unknown): v is FieldError {
  return typeof v === 'object' && v !== null && typeof (v as { error?: unknown }).error === 'string';
}

/** Own property only: a field named "constructor" must not find Object.prototype's. */
export function fieldValue(body: Readonly<Record<string, unknown>>, field: string): unknown {
  return Object.hasOwn(body, field) ? body[field] : undefined;
}

export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return typeof v;
}

/**
 * Equality filter: every key must match. A missing field equals null (the same
 * rule as dimensions: missing -> null). Comparison is strict and typed: filter
 * {"status": 200} does not match "200"; filter values are exact, the producer's
 * types are a contract.
 */
export function matchesFilter(filter: Readonly<Record<string, Scalar>>, body: Readonly<Record<string, unknown>>): boolean {
  for (const k in filter) {
    const want = filter[k];
    const got = fieldValue(body, k);
    if ((got === undefined ? null : got) !== want) return false;
  }
  return true;
}

export function viewMatches(view: ViewDef, body: Readonly<Record<string, unknown>>): boolean {
  return matchesFilter(view.filter, body);
}

/**
 * Dimension value -> group key part. Missing/null -> null; strings as is;
 * numbers via String(n) (so 7 and "7" land in the same group, as they would in a
 * SQL VARCHAR column); booleans -> "true"/"false".
 */
export function dimensionValue(v: unknown): string | null | FieldError {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return boundedString(v);
  if (typeof v === 'number') return exactNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return { error: `must be a string, number, boolean or null, got ${describeType(v)}` };
}

/**
 * Distinct member. Numbers are normalised via String(n): 7 and "7" are the SAME
 * member. Both layers (and a Redis PFADD of the string) agree on that, and a
 * user id sent sometimes as a number and sometimes as a string is one visitor.
 */
export function distinctMember(v: unknown): string | null | FieldError {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return boundedString(v);
  if (typeof v === 'number') return exactNumber(v);
  return { error: `must be a string or number, got ${describeType(v)}` };
}

/**
 * A string a view keeps (dimension value, distinct member): at most MAX_VALUE_LENGTH characters,
 * since it becomes part of Redis keys, SQLite rows and sketches (docs/design-decisions.md §2, "Limits"),
 * and storable as text (isStorableText).
 */
function boundedString(v: string): string | FieldError {
  if (v.length > MAX_VALUE_LENGTH) return { error: `is ${v.length} characters long; at most ${MAX_VALUE_LENGTH}` };
  return isStorableText(v) ? v : { error: NOT_STORABLE };
}

/**
 * A number a view keeps as a string. Beyond ±(2^53 - 1) a JSON number has already lost digits
 * when it was parsed (12345678901234567891 reads as 12345678901234567000), so two different ids
 * would silently become one group or one visitor: refused, like an amount that would be rounded.
 */
function exactNumber(v: number): string | FieldError {
  if (!Number.isFinite(v)) return { error: `must be a finite number, got ${String(v)}` };
  if (Math.abs(v) > Number.MAX_SAFE_INTEGER) {
    return { error: `is ${String(v)}, beyond ±${Number.MAX_SAFE_INTEGER} where JSON numbers lose digits; send it as a string` };
  }
  return String(v);
}

/** sum/min/max input -> scaled integer; missing/null -> null (contributes nothing). */
export function measureNumber(v: unknown, decimals: number): number | null | FieldError {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number') return { error: `must be a number, got ${describeType(v)}` };
  return scaleNumber(v, decimals);
}
