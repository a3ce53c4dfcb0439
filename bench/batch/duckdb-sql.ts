/**
 * The view definitions compiled to SQL for DuckDB (docs/design-decisions.md §9: "the view definitions compile to
 * SQL that DuckDB can run over the same files"), as a user would write it by hand: read every
 * master file with read_json, keep the first record per id, then one GROUP BY per view and
 * granularity. Measures follow the batch layer exactly: count(*), sums/min/max of the value
 * scaled to an exact integer (value * 10^decimals), count(DISTINCT member); buckets are
 * floor(ts / g) * g in epoch ms; missing dimensions are NULL.
 *
 * Scope: event times as epoch-ms numbers and string dimensions / members (what the bench's
 * generator writes); ISO-8601 `ts` strings and numeric dimensions would need casts.
 */
import { granularityMs } from '../../shared/time.js';
import type { MeasureDef, Scalar, ViewDef, ViewSet } from '../../shared/views/definition.js';

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
const literal = (v: Scalar) => (v === null ? 'NULL' : typeof v === 'string' ? `'${v.replaceAll("'", "''")}'` : String(v));

function columnType(views: ViewSet, field: string): string {
  for (const v of views.views) {
    if (Object.hasOwn(v.filter, field)) {
      const want = v.filter[field];
      if (typeof want === 'number') return 'DOUBLE';
      if (typeof want === 'boolean') return 'BOOLEAN';
    }
    for (const m of Object.values(v.measures)) if (m.type !== 'count' && m.type !== 'distinct' && m.field === field) return 'DOUBLE';
  }
  return 'VARCHAR';
}

/** Every field any view reads, with the DuckDB type read_json should give it. */
export function readColumns(views: ViewSet): Record<string, string> {
  const cols: Record<string, string> = { id: 'VARCHAR', ts: 'BIGINT' };
  for (const v of views.views) {
    const fields = [...v.dimensions, ...Object.keys(v.filter), ...Object.values(v.measures).flatMap((m) => (m.type === 'count' ? [] : [m.field]))];
    for (const f of fields) cols[f] ??= columnType(views, f);
  }
  return cols;
}

/** Loads every segment and keeps one record per id: the same exact dedupe as the batch layer. */
export function dedupeSql(masterRoot: string, views: ViewSet): string {
  const columns = Object.entries(readColumns(views))
    .map(([k, t]) => `${ident(k)}: '${t}'`)
    .join(', ');
  const glob = `${masterRoot.replaceAll("'", "''")}/events/*/*.jsonl.gz`;
  return (
    `CREATE TABLE events AS SELECT * FROM read_json('${glob}', format = 'newline_delimited', compression = 'gzip', columns = {${columns}}) ` +
    'QUALIFY row_number() OVER (PARTITION BY id) = 1'
  );
}

function measureSql(name: string, m: MeasureDef): string {
  switch (m.type) {
    case 'count':
      return `count(*) AS ${ident(name)}`;
    case 'distinct':
      return `count(DISTINCT ${ident(m.field)}) AS ${ident(name)}`;
    default:
      return `${m.type}(round(${ident(m.field)} * ${10 ** m.decimals})::BIGINT) AS ${ident(name)}`;
  }
}

export function viewTableName(view: ViewDef, g: string): string {
  return `${view.name}_${g}`;
}

/** One CREATE TABLE per view and granularity, from the deduplicated `events` table. */
export function viewSql(view: ViewDef): { table: string; sql: string }[] {
  const where = Object.entries(view.filter).map(([k, v]) => (v === null ? `${ident(k)} IS NULL` : `${ident(k)} = ${literal(v)}`));
  return view.granularities.map((g) => {
    const ms = granularityMs(g);
    const cols = [...view.dimensions.map(ident), `(ts // ${ms}) * ${ms} AS bucket_start`, ...Object.entries(view.measures).map(([n, m]) => measureSql(n, m))];
    const table = viewTableName(view, g);
    const sql = `CREATE TABLE ${ident(table)} AS SELECT ${cols.join(', ')} FROM events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} GROUP BY ALL`;
    return { table, sql };
  });
}
