/**
 * Read side of one published run file, opened read-only. Values are unscaled here, with the view
 * definitions stored in the file itself (the ones the run computed), never the current views file.
 */
import Database from 'better-sqlite3';
import { LambdaError } from '../../shared/errors.js';
import { unscale } from '../../shared/decimal.js';
import type { BucketRow, SeriesQuery } from '../../shared/ports.js';
import { floorTo } from '../../shared/time.js';
import type { MeasureDef, ViewDef, ViewSet } from '../../shared/views/definition.js';
import { getView, loadViews } from '../../shared/views/load.js';
import type { BatchRunRecord } from './run-record.js';
import { dimensionColumns, measureColumn, quoteIdent, RUN_FILE_FORMAT, viewTable } from './run-schema.js';

type Row = Record<string, string | number | null>;

export class RunFileReader {
  readonly record: BatchRunRecord;
  readonly views: ViewSet;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement<unknown[], Row>>();

  private constructor(db: Database.Database, record: BatchRunRecord, views: ViewSet) {
    this.db = db;
    this.record = record;
    this.views = views;
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
      return new RunFileReader(db, record, views);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Buckets with start in [floor_g(from), to), optionally filtered by dimension equality; ordered by bucket then dims. */
  series(q: SeriesQuery): BucketRow[] {
    const view = getView(this.views, q.view);
    if (view === undefined) {
      throw new LambdaError('NOT_FOUND', `batch run ${this.record.runId} has no view "${q.view}"`, { details: { view: q.view, runId: this.record.runId } });
    }
    if (!view.granularities.includes(q.granularity)) {
      throw new LambdaError('VALIDATION', `view "${view.name}" has no ${q.granularity} granularity`, { details: { view: view.name, granularity: q.granularity } });
    }
    if (q.from >= q.to) return [];
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
    const order = ['bucket_start', ...dimCols.map(quoteIdent)].join(', ');
    const rows = this.statement(`SELECT * FROM ${quoteIdent(viewTable(view))} WHERE ${where.join(' AND ')} ORDER BY ${order}`).all(...params);
    return rows.map((r) => toBucketRow(view, dimCols, r));
  }

  /** Invalid records by reason, as counted by the run. */
  invalidCounts(): Record<string, number> {
    const rows = this.db.prepare('SELECT reason, count FROM invalid ORDER BY reason').all() as { reason: string; count: number }[];
    return Object.fromEntries(rows.map((r) => [r.reason, r.count]));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private statement(sql: string): Database.Statement<unknown[], Row> {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare<unknown[], Row>(sql);
      this.statements.set(sql, s);
    }
    return s;
  }
}

function toBucketRow(view: ViewDef, dimCols: readonly string[], r: Row): BucketRow {
  const values: Record<string, number | null> = {};
  for (const name in view.measures) {
    const m = view.measures[name] as MeasureDef;
    const raw = r[measureColumn(name)];
    // Only min/max are ever NULL (no event carried the field); count, sum and distinct are integers.
    if (typeof raw !== 'number') values[name] = null;
    else values[name] = m.type === 'count' || m.type === 'distinct' ? raw : unscale(raw, m.decimals);
  }
  return {
    view: view.name,
    granularity: r.granularity as BucketRow['granularity'],
    bucketStart: r.bucket_start as number,
    dims: dimCols.map((c) => (r[c] ?? null) as string | null),
    values,
  };
}
