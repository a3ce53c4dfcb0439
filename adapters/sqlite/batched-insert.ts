/**
 * Rows into one table, ROWS_PER_STATEMENT at a time: one multi-row INSERT per batch instead of a
 * statement run per row. A run file holds hundreds of thousands of groups and sketches, and each
 * better-sqlite3 `run` has a fixed cost that was most of the write's time (measured on this
 * machine: 210,000 sketch rows took 190 ms in batches of 16, 340-640 ms one by one).
 */
import type Database from 'better-sqlite3';
import { quoteIdent } from './run-schema.js';

/** Rows per statement: past 16 the gain was nothing measurable; SQLite allows 32,766 parameters. */
const ROWS_PER_STATEMENT = 16;

export type SqlValue = string | number | null | Uint8Array;

export class BatchedInsert {
  private readonly one: Database.Statement;
  private readonly many: Database.Statement;
  private readonly pending: SqlValue[] = [];
  private pendingRows = 0;

  constructor(
    db: Database.Database,
    table: string,
    private readonly columns: readonly string[],
  ) {
    const row = `(${columns.map(() => '?').join(', ')})`;
    const into = `INSERT INTO ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) VALUES `;
    this.one = db.prepare(into + row);
    this.many = db.prepare(into + Array<string>(ROWS_PER_STATEMENT).fill(row).join(', '));
  }

  /** Queues one row: its values in `columns` order, as many as there are columns. */
  add(values: readonly SqlValue[]): void {
    if (values.length !== this.columns.length) throw new RangeError(`a row of ${values.length} values for ${this.columns.length} columns`);
    for (const v of values) this.pending.push(v);
    if (++this.pendingRows === ROWS_PER_STATEMENT) {
      this.many.run(this.pending);
      this.pending.length = 0;
      this.pendingRows = 0;
    }
  }

  /** Writes the rows still queued (fewer than a batch), one statement each. */
  flush(): void {
    const width = this.columns.length;
    for (let r = 0; r < this.pendingRows; r++) this.one.run(this.pending.slice(r * width, (r + 1) * width));
    this.pending.length = 0;
    this.pendingRows = 0;
  }
}
