/**
 * The batch job's SQL for Apache Spark SQL (issue 17; docs/design-decisions.md, "Batch engines"):
 * the same generator as DuckDB's (event-sql.ts, job-sql.ts, sketch-sql.ts), this dialect only.
 * The session runs with spark.sql.ansi.enabled=false (adapters/spark/spark-session.ts): like
 * DuckDB's TRY_ functions, an overflow or a bad cast in a column of a line that is not plain gives
 * NULL instead of failing the job; such values are never read (the TypeScript path judges those
 * lines).
 *
 * Where Spark differs and how it is bridged:
 * - string literals process backslash escapes: `str` escapes backslash and quote.
 * - java.util.regex: `(?d)` (UNIX_LINES) so that `$` and `.` treat only \n as a line end, as RE2
 *   does (a plain string holds no \n; U+2028 or U+0085 could otherwise end a "line" early).
 * - no JSON reader that keeps duplicate members in order: on a plain line (json-text.ts: no
 *   backslash, no quote inside a string, flat) the members are found by one regular expression,
 *   keys and values as two parallel arrays; a value is its raw token (a number exactly as written,
 *   which json-text.ts's digit arithmetic reads as well as DuckDB's shortest round-trip form).
 */
import type { Dialect } from './dialect.js';

/** JSON whitespace, as in json-text.ts. */
const WS = '[ \\t\\n\\r]*';
/** A member of a plain object: its key, and its value's token (a string has no quote inside). */
const MEMBER_RE = `"([^"]*)"${WS}:${WS}("[^"]*"|[^ \\t\\n\\r,}]+)`;

const str = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

export const SPARK: Dialect = {
  name: 'spark',
  str,
  fullMatch: (e, re) => `(${e} RLIKE ${str(`(?d)^(?:${re})\\z`)})`,
  extractGroups: (e, re, names) => `named_struct(${names.map((n, i) => `${str(n)}, regexp_extract(${e}, ${str(`(?d)${re}`)}, ${i + 1})`).join(', ')})`,
  jsonMembers: (e) => `named_struct('k', regexp_extract_all(${e}, ${str(MEMBER_RE)}, 1), 'v', regexp_extract_all(${e}, ${str(MEMBER_RE)}, 2))`,
  // get() is 0-based and NULL out of range; array_position is 1-based, 0 when absent.
  memberJson: (m, key) => `get(${m}.v, array_position(${m}.k, ${str(key)}) - 1)`,
  membersNamed: (m, keys) => `size(filter(${m}.k, k -> k IN (${keys.map(str).join(', ')})))`,
  contains: (e, part) => `(instr(${e}, ${str(part)}) > 0)`,
  lower: (e) => `lower(${e})`,
  splitPart: (e, sep, index) => `split_part(${e}, ${str(sep)}, ${index})`,
  field: (struct, name) => `${struct}.\`${name}\``,
  hash64: (e) => `xxhash64(${e})`,
  trimLeft: (e, chars) => `TRIM(LEADING ${str(chars)} FROM ${e})`,
  trimRight: (e, chars) => `TRIM(TRAILING ${str(chars)} FROM ${e})`,
  // Spark strings are UTF-8: char_length counts code points, octet_length bytes.
  codePoints: (e) => `char_length(${e})`,
  bytes: (e) => `octet_length(${e})`,
  substr: (e, from, count) => (count === undefined ? `substr(${e}, ${from})` : `substr(${e}, ${from}, ${count})`),
  tryBigint: (e) => `try_cast(${e} AS BIGINT)`,
  intDiv: (a, b) => `((${a}) DIV (${b}))`,
  // repeat() takes an INT: the count is capped where no use can tell (the generator only repeats
  // zeros, and a digit string past 19 digits is no BIGINT anyway).
  repeat: (s, n) => `repeat(${s}, CAST(least(greatest(${n}, 0), 1000) AS INT))`,
  startsWith: (e, prefix) => `startswith(${e}, ${str(prefix)})`,
  astralCodePoints: (e) => `char_length(regexp_replace(${e}, ${str('[^\\x{10000}-\\x{10FFFF}]')}, ''))`,
  integerText: (e) => `CAST(${e} AS STRING)`,
  sortedList: (e) => `sort_array(collect_list(${e}))`,
  list: (e) => `collect_list(${e})`,
};
