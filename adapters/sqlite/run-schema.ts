/**
 * The layout of one batch run file (SQLite), shared by the writer and the reader so the two can
 * never disagree. Per view one table:
 *
 *   view_<name>(granularity TEXT, bucket_start INTEGER epoch ms,
 *               dim_<field> TEXT NULL ... one per dimension, in view order,
 *               m_<cell> INTEGER ...     one per cell of each measure, in view order)
 *   index (granularity, bucket_start, dim_...): a series query reads its rows in answer order, no sort
 *
 * Cell columns (docs/design-decisions.md, "Measure algebra": a measure is one cell, named as the
 * measure, or several, `<measure>.<cell>`) hold the monoid result as an exact integer: count;
 * sum/min/max SCALED (value * 10^decimals, NULL for a min/max no event fed); distinct = exact
 * number of members.
 * The reader unscales with the definitions stored in the same file (`meta.views_json`), so a file
 * stays readable after the views file changed. Other tables: `meta` (format version, views JSON
 * and hash), `run` (the run record as of the write: the catalog holds the final one, with the
 * write/publish timings) and `invalid` (invalid records by reason).
 *
 * Sketches (issue 16), when the run built them (LAMBDA_BATCH_SKETCHES; meta `sketches` names the
 * format): per view with a distinct measure one more table,
 *
 *   sketch_<name>(measure TEXT, granularity TEXT, bucket_start INTEGER,
 *                 dim_<field> TEXT NULL ... as in view_<name>,
 *                 hll BLOB)   Redis's HyperLogLog string (shared/hll): registers identical to
 *                             PFADD's of the group's members; SET into Redis it is a PFCOUNT-able key
 *   index (measure, granularity, bucket_start, dim_...)
 *
 * one row per group and distinct measure with at least one member (no row: the empty sketch). The
 * exact count stays in view_<name>. Readers of files without them (older runs, or sketches off)
 * answer distinct unions over batch buckets as unavailable. Additive: the format number stays 1,
 * and a reader that knows nothing of sketches reads such a file as before.
 *
 * Prefixes `dim_`/`m_` keep a dimension and a measure with the same name apart and keep user
 * names clear of `granularity`/`bucket_start`; identifiers are always quoted, so SQL keywords are
 * fine as field names.
 */
import type { Database } from 'better-sqlite3';
import type { ViewDef, ViewSet } from '../../shared/views/definition.js';
import { CELLS, isSketched, viewCells } from '../../shared/aggregate/measure-kinds.js';

export const RUN_FILE_FORMAT = 1;

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function viewTable(view: ViewDef): string {
  return `view_${view.name}`;
}

/**
 * Column name per dimension. Event fields are case-sensitive but SQLite column names are not, so
 * when two dimensions of a view differ only by case, their position is added to keep them apart.
 */
export function dimensionColumns(view: ViewDef): string[] {
  const lower = view.dimensions.map((d) => d.toLowerCase());
  return view.dimensions.map((d, i) => (lower.indexOf(lower[i] as string) === lower.lastIndexOf(lower[i] as string) ? `dim_${d}` : `dim${i}_${d}`));
}

/**
 * The column of a cell (shared/aggregate/measure-kinds.ts). A one-cell measure's cell is named as
 * the measure; measure names are lower-case identifiers (NAME_RE), and further cells are
 * `<measure>.<cell>`, so `m_<cell name>` is unique per view.
 */
export function measureColumn(measure: string): string {
  return `m_${measure}`;
}

/** meta `sketches`: the format of the sketch tables (absent: the run keeps none) */
export const SKETCH_FORMAT = 'redis-hll-p14';

export function sketchTable(view: ViewDef): string {
  return `sketch_${view.name}`;
}

/** The views that get a sketch table: those with a distinct measure. */
export function sketchedViews(views: ViewSet): ViewDef[] {
  return views.views.filter((v) => Object.values(v.measures).some(isSketched));
}

export function createRunSchema(db: Database, views: ViewSet, opts: { sketches?: boolean } = {}): void {
  db.exec(`
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE run (
      run_id TEXT PRIMARY KEY, started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL,
      arrival_complete INTEGER, watermark INTEGER NOT NULL, record_json TEXT NOT NULL);
    CREATE TABLE invalid (reason TEXT PRIMARY KEY, count INTEGER NOT NULL);
  `);
  for (const view of views.views) {
    const dims = dimensionColumns(view).map((c) => `${quoteIdent(c)} TEXT`);
    const measures = viewCells(view).map((c) => `${quoteIdent(measureColumn(c.name))} ${CELLS[c.kind].sqliteType}`);
    db.exec(
      `CREATE TABLE ${quoteIdent(viewTable(view))} (granularity TEXT NOT NULL, bucket_start INTEGER NOT NULL${[...dims, ...measures].map((c) => `, ${c}`).join('')})`,
    );
  }
  if (opts.sketches !== true) return;
  for (const view of sketchedViews(views)) {
    const dims = dimensionColumns(view).map((c) => `, ${quoteIdent(c)} TEXT`);
    db.exec(
      `CREATE TABLE ${quoteIdent(sketchTable(view))} (measure TEXT NOT NULL, granularity TEXT NOT NULL, bucket_start INTEGER NOT NULL${dims.join('')}, hll BLOB NOT NULL)`,
    );
  }
}

/** Indexes are built after the bulk insert: one sort instead of a b-tree update per row. */
export function createRunIndexes(db: Database, views: ViewSet, opts: { sketches?: boolean } = {}): void {
  for (const view of views.views) {
    const table = viewTable(view);
    const cols = ['granularity', 'bucket_start', ...dimensionColumns(view).map(quoteIdent)].join(', ');
    db.exec(`CREATE INDEX ${quoteIdent(`${table}_bucket`)} ON ${quoteIdent(table)} (${cols})`);
  }
  if (opts.sketches !== true) return;
  for (const view of sketchedViews(views)) {
    const table = sketchTable(view);
    const cols = ['measure', 'granularity', 'bucket_start', ...dimensionColumns(view).map(quoteIdent)].join(', ');
    db.exec(`CREATE INDEX ${quoteIdent(`${table}_bucket`)} ON ${quoteIdent(table)} (${cols})`);
  }
}
