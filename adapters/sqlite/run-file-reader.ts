/**
 * Read side of one published run file, opened read-only. Values are unscaled here, with the view
 * definitions stored in the file itself (the ones the run computed), never the current views file.
 */
import Database from 'better-sqlite3';
import { LambdaError } from '../../shared/errors.js';
import type { BucketRow, SeriesQuery, SketchRow } from '../../shared/ports.js';
import { floorTo } from '../../shared/time.js';
import { keepsEveryDimension, type ViewDef, type ViewSet } from '../../shared/views/definition.js';
import { CELLS, finalizeCells, isSketched, viewCells } from '../../shared/aggregate/measure-kinds.js';
import { getView, loadViews } from '../../shared/views/load.js';
import type { BatchRunRecord } from '../../shared/batch/run-record.js';
import { dimensionColumns, measureColumn, quoteIdent, RUN_FILE_FORMAT, SKETCH_FORMAT, sketchTable, viewTable } from './run-schema.js';

export class RunFileReader {
  readonly record: BatchRunRecord;
  readonly views: ViewSet;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement<unknown[], RawRow>>();

  /** whether the file holds the distinct measures' sketches (issue 16; run-schema.ts) */
  readonly hasSketches: boolean;

  private constructor(db: Database.Database, record: BatchRunRecord, views: ViewSet, hasSketches: boolean) {
    this.db = db;
    this.record = record;
    this.views = views;
    this.hasSketches = hasSketches;
  }

  /** Opens a complete run file. `record` is the catalog's record of the run (it has the publish timings). */
  static open(path: string, record: BatchRunRecord): RunFileReader {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const meta = new Map((db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
      if (meta.get('format') !== String(RUN_FILE_FORMAT)) {
        throw new LambdaError('STORAGE', `${path}: unsupported run file format ${String(meta.get('format'))}`);
      }
      const views = loadViews(meta.get('views_json') ?? '', `${path} (views of run ${record.runId})`);
      const sketches = meta.get('sketches');
      if (sketches !== undefined && sketches !== SKETCH_FORMAT) {
        throw new LambdaError('STORAGE', `${path}: unsupported sketch format ${sketches}`);
      }
      return new RunFileReader(db, record, views, sketches !== undefined);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Buckets with start in [floor_g(from), to), optionally filtered by dimension equality; ordered by bucket then dims. */
  series(q: SeriesQuery): BucketRow[] {
    const view = this.view(q);
    if (q.from >= q.to) return [];
    const dimCols = dimensionColumns(view);
    const { where, params } = rangeWhere(view, q);
    // Rolling up in SQLite (when the caller drops dimensions) returns one row per kept group
    // instead of every stored group: far fewer rows to build, sort and combine in JavaScript.
    const kept = keepsEveryDimension(view, q.keep) ? null : new Set(q.keep);
    // The stored cells, combined by each cell's own SQL (shared/aggregate/measure-kinds.ts) when rolling up.
    const measures = viewCells(view);
    const dimSql = dimCols.map((c, i) => (kept === null || kept.has(view.dimensions[i] as string) ? quoteIdent(c) : 'NULL'));
    const measureSql = measures.map((c) => (kept === null ? quoteIdent(measureColumn(c.name)) : CELLS[c.kind].sqlRollup(quoteIdent(measureColumn(c.name)))));
    const groupCols = ['bucket_start', ...dimSql.filter((c) => c !== 'NULL')];
    const sql =
      `SELECT bucket_start, ${[...dimSql, ...measureSql, kept === null ? '1' : 'COUNT(*)'].join(', ')} FROM ${quoteIdent(viewTable(view))} ` +
      `WHERE ${where.join(' AND ')}${kept === null ? '' : ` GROUP BY ${groupCols.join(', ')}`} ORDER BY ${groupCols.join(', ')} LIMIT ?`;
    // One row past maxRows tells the caller the bound was passed without reading the rest (-1: no limit).
    params.push(q.maxRows === undefined ? -1 : q.maxRows + 1);
    // Raw rows (arrays): no object per row with a property per column.
    const rows = this.statement(sql).all(...params);
    const nDims = dimCols.length;
    return rows.map((r) => {
      const cells: Record<string, number | null> = {};
      measures.forEach((c, i) => {
        const raw = r[1 + nDims + i];
        cells[c.name] = typeof raw === 'number' ? raw : null;
      });
      const parts = r[1 + nDims + measures.length] as number;
      const row: BucketRow = {
        view: view.name,
        granularity: q.granularity,
        bucketStart: r[0] as number,
        dims: r.slice(1, 1 + nDims) as (string | null)[],
        values: finalizeCells(view, cells),
        cells,
      };
      if (parts !== 1) row.parts = parts;
      return row;
    });
  }

  /**
   * The sketches of distinct measure `measure` of every stored group in the range and filter
   * (`keep` ignored: unions are the caller's), ordered by bucket then dims; null when the file
   * keeps no sketches. A group without a row has no member (the empty sketch).
   */
  sketches(q: SeriesQuery, measure: string): SketchRow[] | null {
    const view = this.view(q);
    const def = Object.hasOwn(view.measures, measure) ? view.measures[measure] : undefined;
    if (def === undefined || !isSketched(def)) {
      throw new LambdaError('VALIDATION', `view "${view.name}" has no distinct measure "${measure}"`, { details: { view: view.name, measure } });
    }
    if (!this.hasSketches) return null;
    if (q.from >= q.to) return [];
    const dimCols = dimensionColumns(view).map(quoteIdent);
    const { where, params } = rangeWhere(view, q);
    const sql =
      `SELECT bucket_start, ${[...dimCols, 'hll'].join(', ')} FROM ${quoteIdent(sketchTable(view))} ` +
      `WHERE measure = ? AND ${where.join(' AND ')} ORDER BY ${['bucket_start', ...dimCols].join(', ')} LIMIT ?`;
    const rows = this.statement(sql).all(measure, ...params, q.maxRows === undefined ? -1 : q.maxRows + 1);
    const n = dimCols.length;
    return rows.map((r) => ({ bucketStart: r[0] as number, dims: r.slice(1, 1 + n) as (string | null)[], sketch: r[1 + n] as unknown as Uint8Array }));
  }

  /** Invalid records by reason, as counted by the run. */
  invalidCounts(): Record<string, number> {
    const rows = this.db.prepare('SELECT reason, count FROM invalid ORDER BY reason').all() as { reason: string; count: number }[];
    return Object.fromEntries(rows.map((r) => [r.reason, r.count]));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private view(q: SeriesQuery): ViewDef {
    const view = getView(this.views, q.view);
    if (view === undefined) {
      throw new LambdaError('NOT_FOUND', `batch run ${this.record.runId} has no view "${q.view}"`, { details: { view: q.view, runId: this.record.runId } });
    }
    if (!view.granularities.includes(q.granularity)) {
      throw new LambdaError('VALIDATION', `view "${view.name}" has no ${q.granularity} granularity`, {
        details: { view: view.name, granularity: q.granularity },
      });
    }
    return view;
  }

  private statement(sql: string): Database.Statement<unknown[], RawRow> {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare<unknown[], RawRow>(sql);
      s.raw(true);
      this.statements.set(sql, s);
    }
    return s;
  }
}

type RawRow = (string | number | null)[];

/** The WHERE terms of a query's granularity, bucket range [floor_g(from), to) and dimension filter. */
function rangeWhere(view: ViewDef, q: SeriesQuery): { where: string[]; params: (string | number)[] } {
  const dimCols = dimensionColumns(view);
  const where: string[] = ['granularity = ?', 'bucket_start >= ?', 'bucket_start < ?'];
  const params: (string | number)[] = [q.granularity, floorTo(q.from, q.granularity), q.to];
  for (const [dim, want] of Object.entries(q.filter ?? {})) {
    const i = view.dimensions.indexOf(dim);
    if (i < 0) throw new LambdaError('VALIDATION', `view "${view.name}" has no dimension "${dim}"`, { details: { view: view.name, dimension: dim } });
    const col = quoteIdent(dimCols[i] as string);
    if (want === null) where.push(`${col} IS NULL`);
    else {
      where.push(`${col} = ?`);
      params.push(want);
    }
  }
  return { where, params };
}
