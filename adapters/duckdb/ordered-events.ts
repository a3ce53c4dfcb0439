import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * Validates lines into `ev` in the order they are read, numbering them (`seq`) as they come. Each
 * batch of lines is first copied into a table with insertion order kept (cheap), then validated
 * from it with order free (`seq` carries it): validation in the same pipeline as an
 * order-preserving read ran on little more than one thread.
 */
export class OrderedEvents {
  private next = 0;

  /** `intoEvents(source)`: the INSERT that validates the rows of `source` (columns seq, line) into `ev` (shared/sql/event-sql.ts) */
  constructor(
    private readonly db: DuckDBConnection,
    private readonly intoEvents: (source: string) => string,
  ) {}

  /** `ordered`: a query whose column `line` gives lines in read order. Returns how many; if it fails, none were added. */
  async add(ordered: string): Promise<number> {
    await this.db.run('SET preserve_insertion_order = true');
    try {
      await this.db.run(`CREATE OR REPLACE TEMP TABLE raw AS ${ordered}`);
    } finally {
      await this.db.run('SET preserve_insertion_order = false');
    }
    const [[count] = []] = (await this.db.runAndReadAll('SELECT count(*) FROM raw')).getRows();
    await this.db.run(this.intoEvents(`(SELECT ${this.next} + rowid AS seq, line FROM raw)`));
    await this.db.run('DROP TABLE raw');
    this.next += Number(count);
    return Number(count);
  }
}
