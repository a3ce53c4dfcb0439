import type { DuckDBConnection } from '@duckdb/node-api';
import { DUCKDB } from '../../shared/sql/dialect.js';

/** Files beyond this many could not keep their place in `seq` = (file position << 32) + line. */
export const MAX_FILES = 1 << 20;

/** `seq` of the line at `n` (from 0) in the file at position `f` of the listing: file order, then line order. */
export const seqSql = (f: string, n: string) => `((CAST(${f} AS BIGINT) << 32) + ${n})`;

/**
 * Validates lines into `ev`, each numbered `seq` = (file position << 32) + its line's place in the
 * file, so the dedupe keeps the first copy in (file, line) order (job-sql.ts) however the files
 * were read: natively in groups, from compacted files, or streamed through the port, in any order.
 *
 * A native read's lines are first copied into a table with insertion order kept (cheap), whose
 * rowid then gives each line's place in its file; validation runs from it with order free (`seq`
 * carries it): validation in the same pipeline as an order-preserving read ran on little more than
 * one thread.
 */
export class NumberedEvents {
  /** `intoEvents(source, table)`: the INSERT that validates the rows of `source` (columns seq, line) into `table` (shared/sql/event-sql.ts) */
  constructor(
    private readonly db: DuckDBConnection,
    private readonly intoEvents: (source: string, table?: string) => string,
  ) {}

  /**
   * `ordered`: a query whose columns `filename` and `line` give each file's lines in file order,
   * `positions`: filename to its position in the listing. Validated into `table` (default `ev`).
   * Returns how many lines; if it fails, none were added.
   */
  async addFiles(ordered: string, positions: ReadonlyMap<string, number>, table = 'ev'): Promise<number> {
    await this.db.run('SET preserve_insertion_order = true');
    try {
      await this.db.run(`CREATE OR REPLACE TEMP TABLE raw AS ${ordered}`);
    } finally {
      await this.db.run('SET preserve_insertion_order = false');
    }
    const [[count] = []] = (await this.db.runAndReadAll('SELECT count(*) FROM raw')).getRows();
    const pos = [...positions].map(([name, f]) => `(${DUCKDB.str(name)}, ${f})`).join(', ');
    await this.db.run(`CREATE OR REPLACE TEMP TABLE raw_pos AS SELECT * FROM (VALUES ${pos}) t(filename, f)`);
    const numbered =
      `(SELECT ${seqSql('p.f', 'r.rowid - s.r0')} AS seq, r.line FROM raw r ` +
      'JOIN (SELECT filename, min(rowid) AS r0 FROM raw GROUP BY filename) s ON s.filename = r.filename ' +
      'JOIN raw_pos p ON p.filename = r.filename)';
    await this.db.run(this.intoEvents(numbered, table));
    await this.db.run('DROP TABLE raw');
    await this.db.run('DROP TABLE raw_pos');
    return Number(count);
  }

  /** `numbered`: a query with columns seq (seqSql) and line, in any order. Validated into `ev`. */
  async addNumbered(numbered: string): Promise<void> {
    await this.db.run(this.intoEvents(`(${numbered})`));
  }
}
