/**
 * Event validation and projection as SQL, generated from the same rules and constants as
 * shared/events.ts (issue 15). The query reads the column `line` of a source relation and gives
 * one row per line, in the source's order:
 *
 *   line    the text, on lines that are not plain only; lh: a 64-bit hash of the text
 *   plain   the line is plain (json-text.ts) and SQL judged it; false: the engine must validate it
 *           with shared/events.ts instead (escapes, nesting, duplicate keys it reads, long
 *           numbers, not an object, not JSON...). Nothing below is set on such a row.
 *   reason  NULL (valid) or the InvalidReason, in the same precedence as validateAndProject:
 *           missing_id, bad_id, missing_ts, bad_ts, bad_field (a plain line is JSON and an object)
 *   id, ts and the projection columns (projection.ts) of a valid row
 */
import { MAX_ABS_SCALED } from '../decimal.js';
import { MAX_ID_LENGTH, MAX_VALUE_LENGTH } from '../event-limits.js';
import { ISO_RE, MAX_EVENT_TS } from '../time.js';
import type { MeasureDef, Scalar, ViewDef, ViewSet } from '../views/definition.js';
import type { Dialect } from './dialect.js';
import {
  epochMsNumber,
  jsNumberString,
  MAX_PLAIN_DIGITS,
  MAX_PLAIN_MAGNITUDE,
  numberLiteralParts,
  PLAIN_OBJECT_RE,
  scaledOk,
  scaledValue,
  utf16LongerThan,
  withinSafeInteger,
  type NumberCols,
} from './json-text.js';
import { projectionColumns, readFields } from './projection.js';

/** Columns of one read field `x<i>`: its token and what the token is. */
class FieldCols {
  constructor(readonly p: string) {}
  get tok() {
    return `${this.p}_t`;
  }
  /** present and not null */
  get given() {
    return `(${this.tok} <> '' AND ${this.tok} <> 'null')`;
  }
  get isStr() {
    return `(${this.p}_s IS NOT NULL)`;
  }
  get str() {
    return `${this.p}_s`;
  }
  get isNum() {
    return `(${this.p}_k IS NOT NULL)`;
  }
  get isBool() {
    return `(${this.tok} = 'true' OR ${this.tok} = 'false')`;
  }
  get num(): NumberCols {
    return { neg: `${this.p}_neg`, d: `${this.p}_d`, e: `${this.p}_e`, k: `${this.p}_k` };
  }
}

function filterMatch(sql: Dialect, c: FieldCols, want: Scalar): string {
  if (want === null) return `NOT ${c.given}`;
  if (typeof want === 'string') return `(${c.isStr} AND ${c.str} = ${sql.str(want)})`;
  if (typeof want === 'boolean') return `(${c.tok} = '${String(want)}')`;
  const parts = numberLiteralParts(want);
  // A number no plain token can equal (17 digits...): a token equal to it makes the line not plain.
  if (parts === null) return 'false';
  if (parts.d === '') return `(${c.isNum} AND ${c.num.k} = 0)`;
  return `(${c.isNum} AND ${c.num.neg} = ${String(parts.neg)} AND ${c.num.d} = ${sql.str(parts.d)} AND ${c.num.e} = ${parts.e})`;
}

function dimensionProblem(sql: Dialect, c: FieldCols): string {
  return `((${c.isStr} AND ${utf16LongerThan(sql, c.str, MAX_VALUE_LENGTH)}) OR (${c.isNum} AND NOT ${withinSafeInteger(sql, c.num, Number.MAX_SAFE_INTEGER)}))`;
}

function dimensionValue(sql: Dialect, c: FieldCols, booleans: boolean): string {
  const bool = booleans ? ` WHEN ${c.tok} = 'true' THEN 'true' WHEN ${c.tok} = 'false' THEN 'false'` : '';
  return `CASE WHEN ${c.isStr} THEN ${c.str} WHEN ${c.isNum} THEN ${jsNumberString(sql, c.num)}${bool} END`;
}

function measureProblem(sql: Dialect, m: MeasureDef, c: FieldCols): string {
  if (!('field' in m)) return 'false';
  if (!('decimals' in m)) return `(${dimensionProblem(sql, c)} OR ${c.isBool})`;
  return `(${c.isStr} OR ${c.isBool} OR (${c.isNum} AND NOT ${scaledOk(sql, c.num, m.decimals, MAX_ABS_SCALED)}))`;
}

function measureValue(sql: Dialect, m: MeasureDef, c: FieldCols): string {
  if (!('field' in m)) return 'NULL';
  if (!('decimals' in m)) return dimensionValue(sql, c, false);
  return `CASE WHEN ${c.isNum} THEN ${scaledValue(sql, c.num, m.decimals)} END`;
}

/** The ISO-8601 branch of parseEventTime, from the groups of ISO_RE: epoch ms, or NULL. */
function isoEpochMs(sql: Dialect, g: string): string {
  const part = (name: string) => sql.tryBigint(sql.field(g, name));
  const y = part('y');
  const mo = part('mo');
  const d = part('d');
  const leap = `(${y} % 4 = 0 AND (${y} % 100 <> 0 OR ${y} % 400 = 0))`;
  const monthDays = `CASE WHEN ${mo} = 2 THEN CASE WHEN ${leap} THEN 29 ELSE 28 END WHEN ${mo} IN (4, 6, 9, 11) THEN 30 ELSE 31 END`;
  const s = `coalesce(${part('s')}, 0)`;
  const ms = sql.tryBigint(sql.substr(`${sql.field(g, 'fr')} || '000'`, '1', '3'));
  const oh = `coalesce(${part('oh')}, 0)`;
  const om = `coalesce(${part('om')}, 0)`;
  const offset = `CASE WHEN ${sql.field(g, 'sg')} = '-' THEN -1 ELSE 1 END * (${oh} * 60 + ${om})`;
  // Days since 1970-01-01 of a Gregorian date (H. Hinnant's days_from_civil; years >= 1968 here).
  const yy = `(${y} - CASE WHEN ${mo} <= 2 THEN 1 ELSE 0 END)`;
  const era = sql.intDiv(yy, '400');
  const yoe = `(${yy} - ${era} * 400)`;
  const doy = `(${sql.intDiv(`153 * ((${mo} + 9) % 12) + 2`, '5')} + ${d} - 1)`;
  const doe = `(${yoe} * 365 + ${sql.intDiv(yoe, '4')} - ${sql.intDiv(yoe, '100')} + ${doy})`;
  const days = `(${era} * 146097 + ${doe} - 719468)`;
  const ts = `(${days} * 86400000 + ${part('h')} * 3600000 + ${part('mi')} * 60000 + ${s} * 1000 + ${ms} - ${offset} * 60000)`;
  const valid = [
    `${sql.field(g, 'y')} <> ''`,
    `(${sql.field(g, 'z')} <> '' OR ${sql.field(g, 'sg')} <> '')`,
    `${mo} BETWEEN 1 AND 12`,
    `${d} BETWEEN 1 AND ${monthDays}`,
    `${part('h')} <= 23 AND ${part('mi')} <= 59 AND ${s} <= 59`,
    `${oh} <= 23 AND ${om} <= 59`,
    `${y} >= 1969`,
  ];
  return `CASE WHEN ${valid.join(' AND ')} AND ${ts} BETWEEN 0 AND ${MAX_EVENT_TS} THEN ${ts} END`;
}

const ISO_GROUPS = ['y', 'mo', 'd', 'h', 'mi', 's', 'fr', 'z', 'sg', 'oh', 'om'] as const;

/**
 * How one step of the query becomes the relation the next step reads: by default a subquery. An
 * engine whose planner copes badly with the deep nesting (Spark: every nested SELECT inlined into
 * one huge expression tree took minutes to plan) names a materialized table per step instead.
 */
export type Stage = (select: string) => string;

const SUBQUERY: Stage = (select) => `(${select})`;

/**
 * The SELECT that classifies, validates and projects every row of `source` (column `line`);
 * `carry`: other columns of `source` passed through, first.
 */
export function eventsSql(sql: Dialect, views: ViewSet, source: string, carry: readonly string[] = [], stage: Stage = SUBQUERY): string {
  const carried = carry.map((c) => `${c}, `).join('');
  const fields = readFields(views);
  const cols = new Map(fields.map((f, i) => [f, new FieldCols(`x${i}`)]));
  const col = (f: string) => cols.get(f) as FieldCols;
  const each = (fn: (c: FieldCols, f: string) => string) => fields.map((f) => fn(col(f), f)).join(', ');

  const s1 = `SELECT ${carried}line, ${sql.fullMatch('line', PLAIN_OBJECT_RE)} AS flat FROM ${source}`;
  // One JSON parse per plain line; tokens are the members' JSON text (dialect.ts jsonMembers).
  const s2 = `SELECT *, CASE WHEN flat THEN ${sql.jsonMembers('line')} END AS mem FROM ${stage(s1)}`;
  const s3 = `SELECT ${carried}line, flat, ${sql.membersNamed('mem', fields)} AS named, ${each((c, f) => `coalesce(${sql.memberJson('mem', f)}, '') AS ${c.p}_t`)} FROM ${stage(s2)}`;
  // Strings: the text between the quotes (a plain string holds none). Numbers: the member's text
  // split at the exponent and the point with string functions (it is a JSON number: no grammar to
  // check), the sign apart.
  const s4 = `SELECT *, ${each(
    (c) =>
      `CASE WHEN ${sql.startsWith(c.tok, '"')} THEN ${sql.substr(c.tok, '2', `${sql.codePoints(c.tok)} - 2`)} END AS ${c.p}_s, ` +
      `CASE WHEN ${c.tok} = '' OR ${sql.startsWith(c.tok, '"')} OR ${c.tok} IN ('true', 'false', 'null') THEN NULL ` +
      `WHEN ${sql.startsWith(c.tok, '-')} THEN ${sql.substr(c.tok, '2')} ELSE ${c.tok} END AS ${c.p}_nb0, ${sql.startsWith(c.tok, '-')} AS ${c.p}_neg`,
  )} FROM ${stage(s3)}`;
  // The engine writes a lower-case e; only a number kept as its token (past 64 bits) may hold E.
  const s4b = `SELECT *, ${each((c) => `CASE WHEN ${sql.contains(`${c.p}_nb0`, 'E')} THEN ${sql.lower(`${c.p}_nb0`)} ELSE ${c.p}_nb0 END AS ${c.p}_nb`)} FROM ${stage(s4)}`;
  const s5 = `SELECT *, ${each((c) => `${sql.splitPart(`${c.p}_nb`, 'e', 1)} AS ${c.p}_m, ${sql.splitPart(`${c.p}_nb`, 'e', 2)} AS ${c.p}_x`)} FROM ${stage(s4b)}`;
  const s5b = `SELECT *, ${each((c) => `${sql.splitPart(`${c.p}_m`, '.', 1)} AS ${c.p}_ip, ${sql.splitPart(`${c.p}_m`, '.', 2)} AS ${c.p}_fp`)} FROM ${stage(s5)}`;
  const s5c = `SELECT *, ${each(
    (c) =>
      `${sql.trimLeft(`${c.p}_ip || ${c.p}_fp`, '0')} AS ${c.p}_l, ` +
      `CASE WHEN ${c.p}_x = '' THEN 0 ELSE ${sql.tryBigint(sql.trimLeft(`${c.p}_x`, '+'))} END - ${sql.codePoints(`${c.p}_fp`)} AS ${c.p}_e0, ` +
      `${sql.codePoints(`${c.p}_x`)} AS ${c.p}_exlen`,
  )} FROM ${stage(s5b)}`;
  const s6 = `SELECT *, ${each(
    (c) =>
      `${sql.trimRight(`${c.p}_l`, '0')} AS ${c.p}_d, ` +
      `${c.p}_e0 + ${sql.codePoints(`${c.p}_l`)} - ${sql.codePoints(sql.trimRight(`${c.p}_l`, '0'))} AS ${c.p}_e, ` +
      `${sql.codePoints(sql.trimRight(`${c.p}_l`, '0'))} AS ${c.p}_k`,
  )} FROM ${stage(s5c)}`;
  // Plain: the grammar, no key a view reads given twice, every number it reads short enough (the id
  // excepted: any number there is bad_id).
  const plainNumber = (c: FieldCols) =>
    `(${c.num.k} IS NULL OR (${c.p}_ip <> '' AND ${c.p}_exlen <= 6 AND ${c.num.k} <= ${MAX_PLAIN_DIGITS} AND (${c.num.k} = 0 OR ${c.num.k} + ${c.num.e} BETWEEN -${MAX_PLAIN_MAGNITUDE} AND ${MAX_PLAIN_MAGNITUDE})))`;
  const present = fields.map((f) => `CASE WHEN ${col(f).tok} = '' THEN 0 ELSE 1 END`).join(' + ');
  const plain = ['flat', `named = ${present}`, ...fields.filter((f) => f !== 'id').map((f) => plainNumber(col(f)))].join(' AND ');
  const ts = col('ts');
  const isoGroups = `CASE WHEN ${ts.isStr} THEN ${sql.extractGroups(ts.str, ISO_RE.source, ISO_GROUPS)} END`;
  const s7 = `SELECT *, coalesce(${plain}, false) AS plain, ${isoGroups} AS ts_iso FROM ${stage(s6)}`;
  const tsMs = `CASE WHEN ${ts.isNum} THEN ${epochMsNumber(sql, ts.num, MAX_EVENT_TS)} WHEN ${ts.isStr} THEN ${isoEpochMs(sql, 'ts_iso')} END`;
  const s8 = `SELECT *, CASE WHEN plain THEN ${tsMs} END AS ts_ms FROM ${stage(s7)}`;

  const id = col('id');
  const matches = views.views.map((v) => viewMatch(sql, v, col));
  const problems = views.views.map((v, i) => `(${matches[i]} AND ${viewProblem(sql, v, col)})`);
  const reason =
    `CASE WHEN NOT ${id.given} THEN 'missing_id' ` +
    `WHEN NOT ${id.isStr} OR ${id.str} = '' OR ${utf16LongerThan(sql, id.str, MAX_ID_LENGTH)} THEN 'bad_id' ` +
    `WHEN NOT ${ts.given} THEN 'missing_ts' WHEN ts_ms IS NULL THEN 'bad_ts' ` +
    (problems.length > 0 ? `WHEN ${problems.join(' OR ')} THEN 'bad_field' ` : '') +
    'END';
  const projections = projectionColumns(views).map((p) => {
    const view = views.views[p.view] as ViewDef;
    const v =
      p.kind === 'on'
        ? (matches[p.view] as string)
        : p.kind === 'dim'
          ? dimensionValue(sql, col(view.dimensions[p.index] as string), true)
          : measureValue(sql, view.measures[p.measure] as MeasureDef, col((view.measures[p.measure] as { field: string }).field));
    return `CASE WHEN plain THEN ${v} END AS ${p.name}`;
  });
  return (
    // The text itself only where TypeScript will judge the line; the dedupe compares hashes (job-sql.ts).
    `SELECT ${carried}CASE WHEN NOT plain THEN line END AS line, ${sql.hash64('line')} AS lh, plain, CASE WHEN plain THEN ${reason} END AS reason, ` +
    `CASE WHEN plain THEN ${id.str} END AS id, ts_ms AS ts${projections.map((p) => `, ${p}`).join('')} FROM ${stage(s8)}`
  );
}

function viewMatch(sql: Dialect, view: ViewDef, col: (f: string) => FieldCols): string {
  const parts = Object.entries(view.filter).map(([k, want]) => filterMatch(sql, col(k), want));
  return parts.length === 0 ? 'true' : `(${parts.join(' AND ')})`;
}

function viewProblem(sql: Dialect, view: ViewDef, col: (f: string) => FieldCols): string {
  const parts = [
    ...view.dimensions.map((d) => dimensionProblem(sql, col(d))),
    ...Object.values(view.measures).map((m) => ('field' in m ? measureProblem(sql, m, col(m.field)) : 'false')),
  ];
  return parts.length === 0 ? 'false' : `(${parts.join(' OR ')})`;
}
