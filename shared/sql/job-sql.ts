/**
 * The batch job after validation, as SQL (issue 15): exact dedupe by event id and every view at
 * every granularity, the same as the reference engine computes it.
 *
 * - Dedupe: of the valid records sharing an id, the first by `seq` is kept: the record's place in
 *   the order the engine read the lines, a file's lines in file order (adapters/duckdb/
 *   load-events.ts). The reference engine leaves the winner between files unspecified
 *   (docs/design-decisions.md, "Batch layer"); this order is one of the orders it may take, and a
 *   deterministic one.
 * - `differs`: a dropped copy whose raw line is not the kept record's line
 *   (duplicatesDifferingPayload), compared by the lines' 64-bit hashes `lh` (the reference engine
 *   compares 32-bit hashes): carrying every line's text through the window cost more than the
 *   rest of the dedupe.
 * - Views: per cell its aggregate from the measure table (count(*), count(DISTINCT member) with
 *   NULL members ignored as the reference's sets skip them, sums/min/max of the scaled integers:
 *   sum 0 and min/max NULL when no event carried the field), bucket = floor(ts / g) * g.
 */
import { granularityMs } from '../time.js';
import type { ViewSet } from '../views/definition.js';
import type { Dialect } from './dialect.js';
import { projectionColumns } from './projection.js';
import { CELLS, viewCells } from '../aggregate/measure-kinds.js';

/** The valid records (columns seq, lh, id, ts, the projection) with their rank among the records of their id. */
export function rankedSql(views: ViewSet, valid: string): string {
  const cols = ['id', 'ts', ...projectionColumns(views).map((c) => c.name)].join(', ');
  return `SELECT ${cols}, row_number() OVER w AS rn, lh <> first_value(lh) OVER w AS differs ` + `FROM ${valid} WINDOW w AS (PARTITION BY id ORDER BY seq)`;
}

/** One row: kept, duplicates, differing. */
export function dedupeCountsSql(ranked: string): string {
  return (
    'SELECT sum(CASE WHEN rn = 1 THEN 1 ELSE 0 END) AS kept, sum(CASE WHEN rn > 1 THEN 1 ELSE 0 END) AS duplicates, ' +
    `sum(CASE WHEN rn > 1 AND differs THEN 1 ELSE 0 END) AS differing FROM ${ranked}`
  );
}

export interface ViewQuery {
  view: string;
  /** columns: granularity, bucket_start, d0..d<dims-1>, then one per cell in view order (m0..) */
  sql: string;
  dims: number;
  /** the cell names (the keys of a StoredGroup's values), in column order */
  measures: string[];
}

/** Per view: its groups at every granularity, from the kept records. */
export function viewQueries(sql: Dialect, views: ViewSet, ranked: string): ViewQuery[] {
  const cols = projectionColumns(views);
  return views.views.map((view, i) => {
    const colOf = (measure: string) => cols.find((c) => c.view === i && c.kind === 'measure' && c.measure === measure)?.name as string;
    const dims = view.dimensions.map((_, j) => `v${i}_d${j}`);
    // One column per cell (shared/aggregate/measure-kinds.ts), by the cell's aggregate.
    const cells = viewCells(view);
    const measures = cells.map((c, k) => `${CELLS[c.kind].sqlAggregate(c.kind === 'count' && !c.ofField ? null : colOf(c.measure))} AS m${k}`);
    const perGranularity = view.granularities.map((g) => {
      const ms = granularityMs(g);
      const bucket = `${sql.intDiv('ts', String(ms))} * ${ms}`;
      const select = [`${sql.str(g)} AS granularity`, `${bucket} AS bucket_start`, ...dims.map((d, j) => `${d} AS d${j}`), ...measures];
      const groupBy = [bucket, ...dims].join(', ');
      return `SELECT ${select.join(', ')} FROM ${ranked} WHERE rn = 1 AND v${i}_on GROUP BY ${groupBy}`;
    });
    return { view: view.name, sql: perGranularity.join(' UNION ALL '), dims: dims.length, measures: cells.map((c) => c.name) };
  });
}
