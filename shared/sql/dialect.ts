/**
 * The SQL dialect bits of the batch job (issue 15), kept in one place so the same generator
 * (event-sql.ts, job-sql.ts, sketch-sql.ts) targets every SQL engine: DuckDB here, Spark SQL in
 * spark-dialect.ts (issue 17). Each method returns SQL text; everything else the generator writes
 * is plain ANSI-ish SQL (CASE, CAST to BIGINT, ||, comparisons, GROUP BY, window functions).
 *
 * Regular expressions are written in the RE2 / java.util.regex common subset (no look-around,
 * no back-references): DuckDB uses RE2, Spark Java's engine.
 */

export interface Dialect {
  readonly name: string;
  /** a string literal holding exactly `s` (no escape processing by the engine) */
  str(s: string): string;
  /** true when the whole of `e` matches `re` */
  fullMatch(e: string, re: string): string;
  /** capture groups of the first match of `re` in `e` as a struct with fields `names` ('' when no match) */
  extractGroups(e: string, re: string, names: readonly string[]): string;
  /**
   * The top-level members of the JSON object text `e` (valid JSON, checked before), duplicates kept
   * in order, as a value `memberJson` and `memberRepeats` read.
   */
  jsonMembers(e: string): string;
  /** the JSON text of the first member named `key` of `jsonMembers` value `m`, NULL when absent */
  memberJson(m: string, key: string): string;
  /** how many members of `m` have one of the names `keys` (a name given twice counts twice) */
  membersNamed(m: string, keys: readonly string[]): string;
  /** does `e` hold the literal `part` */
  contains(e: string, part: string): string;
  /** lower case */
  lower(e: string): string;
  /** the `index`-th (1-based) part of `e` split at the literal `sep` ('' past the last) */
  splitPart(e: string, sep: string, index: number): string;
  /** field `name` of a struct expression */
  field(struct: string, name: string): string;
  /** a 64-bit hash of the text `e` (equal texts, equal hashes) */
  hash64(e: string): string;
  /** removes the characters of `chars` from the start / end of `e` */
  trimLeft(e: string, chars: string): string;
  trimRight(e: string, chars: string): string;
  /** length in Unicode code points */
  codePoints(e: string): string;
  /** length in bytes of the UTF-8 encoding */
  bytes(e: string): string;
  /** code points from 1-based position `from`, `count` of them (to the end when omitted) */
  substr(e: string, from: string, count?: string): string;
  /** `e` cast to a 64-bit integer, NULL when it is not one */
  tryBigint(e: string): string;
  /** integer division (operands non-negative here) */
  intDiv(a: string, b: string): string;
  /** `s` repeated `n` times ('' for n <= 0) */
  repeat(s: string, n: string): string;
  /** does `e` start with the literal `prefix` */
  startsWith(e: string, prefix: string): string;
  /** number of code points of `e` at or above U+10000 (two UTF-16 code units each) */
  astralCodePoints(e: string): string;
  /** an integer `e` as its decimal text */
  integerText(e: string): string;
  /** aggregate: the values of the integer column `e` in the group, as a list sorted ascending */
  sortedList(e: string): string;
  /** aggregate: the values of the integer column `e` in the group, as a list in any order */
  list(e: string): string;
}

export const DUCKDB: Dialect = {
  name: 'duckdb',
  // DuckDB's standard strings have no backslash escapes: only the quote doubles.
  str: (s) => `'${s.replaceAll("'", "''")}'`,
  fullMatch: (e, re) => `regexp_full_match(${e}, ${DUCKDB.str(re)})`,
  extractGroups: (e, re, names) => `regexp_extract(${e}, ${DUCKDB.str(re)}, [${names.map((n) => DUCKDB.str(n)).join(', ')}])`,
  // One yyjson parse per line into a MAP whose entries keep every member, duplicates included (a
  // MAP built by this cast is not deduplicated). Values are JSON text as yyjson writes it: strings
  // quoted (unescaped text when the line has no escapes), numbers in shortest round-trip form
  // ("1.5", "100.0", "1e-7"), and numbers too large for 64 bits kept as their raw token.
  jsonMembers: (e) => `CAST(CAST(${e} AS JSON) AS MAP(VARCHAR, JSON))`,
  memberJson: (m, key) => `CAST(map_extract_value(${m}, ${DUCKDB.str(key)}) AS VARCHAR)`,
  membersNamed: (m, keys) => `len(list_filter(map_keys(${m}), k -> k IN (${keys.map((k) => DUCKDB.str(k)).join(', ')})))`,
  contains: (e, part) => `contains(${e}, ${DUCKDB.str(part)})`,
  lower: (e) => `lower(${e})`,
  splitPart: (e, sep, index) => `split_part(${e}, ${DUCKDB.str(sep)}, ${index})`,
  hash64: (e) => `hash(${e})`,
  field: (struct, name) => `struct_extract(${struct}, ${DUCKDB.str(name)})`,
  trimLeft: (e, chars) => `ltrim(${e}, ${DUCKDB.str(chars)})`,
  trimRight: (e, chars) => `rtrim(${e}, ${DUCKDB.str(chars)})`,
  // length() counts code points (length_grapheme counts grapheme clusters), strlen() bytes.
  codePoints: (e) => `length(${e})`,
  bytes: (e) => `strlen(${e})`,
  substr: (e, from, count) => (count === undefined ? `substr(${e}, ${from})` : `substr(${e}, ${from}, ${count})`),
  tryBigint: (e) => `TRY_CAST(${e} AS BIGINT)`,
  intDiv: (a, b) => `((${a}) // (${b}))`,
  repeat: (s, n) => `repeat(${s}, greatest(${n}, 0)::BIGINT)`,
  startsWith: (e, prefix) => `starts_with(${e}, ${DUCKDB.str(prefix)})`,
  astralCodePoints: (e) => `length(regexp_replace(${e}, '[^\\x{10000}-\\x{10FFFF}]', '', 'g'))`,
  integerText: (e) => `CAST(${e} AS VARCHAR)`,
  sortedList: (e) => `list(${e} ORDER BY ${e})`,
  list: (e) => `list(${e})`,
};
