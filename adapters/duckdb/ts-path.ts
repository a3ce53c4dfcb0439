/**
 * The lines the SQL does not judge (not plain: escapes, nesting, duplicate keys a view reads,
 * numbers of 16+ digits, anything that is not a flat object or not JSON) are validated and
 * projected by shared/events.ts itself, and valid ones go back into DuckDB in the same columns as
 * the SQL fills (shared/sql/projection.ts). So every record is judged by exactly the rules of the
 * other layers: by SQL where SQL is provably the same, by the TypeScript otherwise.
 */
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { LambdaError } from '../../shared/errors.js';
import { parseProjectedLine } from '../../shared/events.js';
import type { ProjectionColumn } from '../../shared/sql/projection.js';
import type { ViewSet } from '../../shared/views/definition.js';

/** Columns of the table the TypeScript path fills: the same as the SQL's valid rows. */
export function tsPathColumns(projection: readonly ProjectionColumn[]): string {
  return ['seq BIGINT', 'line VARCHAR', 'id VARCHAR', 'ts BIGINT', ...projection.map((c) => `${c.name} ${c.type}`)].join(', ');
}

/**
 * A DuckDB VARCHAR crosses the C API as a NUL-terminated string: a value holding U+0000 would be
 * cut short. The event contract keeps U+0000 out of every string a view keeps (shared/views/fields.ts)
 * and a raw U+0000 is never valid JSON, so none can reach here; checked anyway, loudly.
 */
function text(s: string): string {
  if (s.includes('\u0000')) throw new LambdaError('INTERNAL', 'a string holding U+0000 cannot be handed to DuckDB');
  return s;
}

type Row = readonly (string | number | boolean | null)[];

/**
 * Judges lines and keeps the valid ones' rows until `flush` appends them to `ts_valid` (a TEMP
 * table of the engine's connection). Rows are buffered rather than appended as they come: an
 * appender filling a table on one connection while a query streams on another hung DuckDB (seen
 * at 5M events), so the engine reads a page of lines, then flushes, never both at once.
 */
export class TsPath {
  readonly invalid: Record<string, number> = {};
  valid = 0;
  private rows: Row[] = [];

  constructor(
    private readonly views: ViewSet,
    private readonly projection: readonly ProjectionColumn[],
  ) {}

  /** Judges one line; a valid one is kept with `seq`, its place in the order lines were read (job-sql.ts). */
  add(seq: number, line: string): void {
    const r = parseProjectedLine(line, this.views);
    if (!r.ok) {
      this.invalid[r.reason] = (this.invalid[r.reason] ?? 0) + 1;
      return;
    }
    const row: (string | number | boolean | null)[] = [seq, text(line), text(r.event.id), r.event.ts];
    for (const c of this.projection) {
      const p = r.projections[c.view] ?? null;
      if (c.kind === 'on') {
        row.push(p !== null);
        continue;
      }
      const v = p === null ? null : c.kind === 'dim' ? (p.dims[c.index] ?? null) : (p.measures[c.measure] ?? null);
      row.push(typeof v === 'string' ? text(v) : v);
    }
    this.rows.push(row);
    this.valid++;
  }

  /** Appends the kept rows to `ts_valid`. */
  async flush(db: DuckDBConnection): Promise<void> {
    if (this.rows.length === 0) return;
    const a: DuckDBAppender = await db.createAppender('ts_valid', 'main', 'temp');
    try {
      for (const row of this.rows) {
        row.forEach((v) => {
          if (v === null) a.appendNull();
          else if (typeof v === 'boolean') a.appendBoolean(v);
          else if (typeof v === 'string') a.appendVarchar(v);
          else a.appendBigInt(BigInt(v)); // seq, ts, measures: BIGINT columns
        });
        a.endRow();
      }
    } finally {
      a.closeSync();
    }
    this.rows = [];
  }
}
