/**
 * JSON read as text by SQL: the "plain line" grammar and exact SQL for what JavaScript makes of
 * the values in it (issue 15; docs/design-decisions.md, "Batch layer").
 *
 * A line is *plain* when it is one flat JSON object (every value a string, number, true, false or
 * null) with no backslash and no control character anywhere in its strings, and JSON whitespace
 * only. On such a line JSON.parse and the engine's JSON reader (dialect.ts jsonMembers) agree on
 * the members: a string's value is the text between its quotes, nesting depth is 1; only a key
 * given twice reads differently (JavaScript keeps the last value, the SQL reader finds the first),
 * so a line repeating a key a view reads is not plain either. Lines that are not plain are never
 * judged by SQL: the engine validates them with shared/events.ts itself.
 *
 * Numbers: the SQL reader gives a number member as the double's shortest round-trip decimal
 * ("1.5", "100.0", "1e-7"), or, for an integer beyond 64 bits or a double that overflows, as its
 * token. A decimal of at most 15 significant digits, with its decimal point within 10^±300 of 1,
 * is the shortest form of exactly one normal double (DBL_DIG = 15), the one JSON.parse gives and
 * whose String(n) has those digits. So shared/decimal.ts scaleNumber, String(n) and
 * Number.isInteger can be computed exactly from those digits, as strings and 64-bit integers,
 * never through floating point. Other numbers (16+ significant digits, 1e400...) make the line not
 * plain.
 */
import type { Dialect } from './dialect.js';

/** JSON whitespace: space, tab, line feed, carriage return (what JSON.parse skips). */
const WS = '[ \\t\\n\\r]*';
/** A string without escapes or control characters: its value is its text. */
const STR = String.raw`"[^"\\\x00-\x1f]*"`;
/** The JSON number grammar (RFC 8259), as JSON.parse accepts it. */
const NUM = String.raw`-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?`;
const VALUE = `(?:${STR}|${NUM}|true|false|null)`;
const PAIR = `${STR}${WS}:${WS}${VALUE}`;

/** A whole line that is one flat plain object (see above); used as a full match. */
export const PLAIN_OBJECT_RE = `${WS}\\{${WS}(?:${PAIR}${WS}(?:,${WS}${PAIR}${WS})*)?\\}${WS}`;

/** Largest significant digits a plain number may have (see above). */
export const MAX_PLAIN_DIGITS = 15;
/** A plain number's decimal point stays within 10^±this (normal doubles, no overflow/underflow). */
export const MAX_PLAIN_MAGNITUDE = 300;

/**
 * A number token as columns: `neg` (sign), `d` (significant digits, no leading or trailing zero;
 * '' for zero), `e` (value = d × 10^e), `k` (= length of d). All SQL expressions over a row.
 */
export interface NumberCols {
  neg: string;
  d: string;
  e: string;
  k: string;
}

/** Position of the decimal point: value = 0.d × 10^n (ECMAScript's n in Number::toString). */
function point(c: NumberCols): string {
  return `(${c.k} + ${c.e})`;
}

function digitsTimes10(sql: Dialect, c: NumberCols, shift: string): string {
  return sql.tryBigint(`${c.d} || ${sql.repeat("'0'", shift)}`);
}

/** Whether a plain number is an integer within ±bound (bound < 10^16): shared/views/fields.ts exactNumber. */
export function withinSafeInteger(sql: Dialect, c: NumberCols, bound: number): string {
  const digits = String(bound).length;
  return `(${c.k} = 0 OR ${point(c)} < ${digits} OR (${point(c)} = ${digits} AND ${digitsTimes10(sql, c, `${digits} - ${c.k}`)} <= ${bound}))`;
}

/** JavaScript's String(n) of a plain number (ECMA-262 Number::toString, radix 10). */
export function jsNumberString(sql: Dialect, c: NumberCols): string {
  const n = point(c);
  const exp = `(${n} - 1)`;
  const body =
    `CASE WHEN ${c.k} <= ${n} AND ${n} <= 21 THEN ${c.d} || ${sql.repeat("'0'", `${n} - ${c.k}`)} ` +
    `WHEN 0 < ${n} AND ${n} <= 21 THEN ${sql.substr(c.d, '1', n)} || '.' || ${sql.substr(c.d, `${n} + 1`)} ` +
    `WHEN -6 < ${n} AND ${n} <= 0 THEN '0.' || ${sql.repeat("'0'", `-${n}`)} || ${c.d} ` +
    `ELSE ${sql.substr(c.d, '1', '1')} || CASE WHEN ${c.k} > 1 THEN '.' || ${sql.substr(c.d, '2')} ELSE '' END || 'e' || ` +
    `CASE WHEN ${exp} < 0 THEN '-' ELSE '+' END || ${sql.integerText(`abs(${exp})`)} END`;
  return `CASE WHEN ${c.k} = 0 THEN '0' ELSE CASE WHEN ${c.neg} THEN '-' ELSE '' END || ${body} END`;
}

/** shared/decimal.ts scaleNumber of a plain number: whether it is acceptable at `decimals`. */
export function scaledOk(sql: Dialect, c: NumberCols, decimals: number, maxAbsScaled: number): string {
  const shift = `(${c.e} + ${decimals})`;
  const maxDigits = String(maxAbsScaled).length;
  return `(${c.k} = 0 OR (${shift} >= 0 AND ${c.k} + ${shift} <= ${maxDigits} AND ${digitsTimes10(sql, c, shift)} <= ${maxAbsScaled}))`;
}

/** ... and its value (the scaled integer; use where scaledOk holds). */
export function scaledValue(sql: Dialect, c: NumberCols, decimals: number): string {
  return `CASE WHEN ${c.k} = 0 THEN 0 WHEN ${c.neg} THEN -${digitsTimes10(sql, c, `${c.e} + ${decimals}`)} ELSE ${digitsTimes10(sql, c, `${c.e} + ${decimals}`)} END`;
}

/** An epoch-ms `ts` number (shared/time.ts parseEventTime): the integer, or NULL when not one in [0, max]. */
export function epochMsNumber(sql: Dialect, c: NumberCols, max: number): string {
  const maxDigits = String(max).length;
  // -0 is an integer and not negative: ts 0, as in JavaScript.
  return (
    `CASE WHEN ${c.k} = 0 THEN 0 WHEN NOT ${c.neg} AND ${c.e} >= 0 AND ${point(c)} <= ${maxDigits} ` +
    `AND ${digitsTimes10(sql, c, c.e)} <= ${max} THEN ${digitsTimes10(sql, c, c.e)} END`
  );
}

/** A JavaScript number as the (neg, d, e) a plain token equal to it would have; null when no plain token can be. */
export function numberLiteralParts(x: number): { neg: boolean; d: string; e: number } | null {
  if (!Number.isFinite(x)) return null;
  if (x === 0) return { neg: false, d: '', e: 0 };
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(Math.abs(x)));
  if (m === null) return null;
  const all = `${m[1]}${m[2] ?? ''}`.replace(/^0+/, '');
  const d = all.replace(/0+$/, '');
  const e = (m[3] === undefined ? 0 : Number(m[3])) - (m[2] ?? '').length + (all.length - d.length);
  if (d.length > MAX_PLAIN_DIGITS || Math.abs(d.length + e) > MAX_PLAIN_MAGNITUDE) return null;
  return { neg: x < 0, d, e };
}

/** Whether a string holds more than `limit` UTF-16 code units (JavaScript's String.length). */
export function utf16LongerThan(sql: Dialect, s: string, limit: number): string {
  // UTF-16 units never exceed UTF-8 bytes, and are at least the code points; only in between do
  // astral characters (two units, one code point) need counting.
  return (
    `CASE WHEN ${sql.bytes(s)} <= ${limit} THEN false WHEN ${sql.codePoints(s)} > ${limit} THEN true ` +
    `ELSE ${sql.codePoints(s)} + ${sql.astralCodePoints(s)} > ${limit} END`
  );
}
