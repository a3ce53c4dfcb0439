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
import { CELLS, viewCells, type Cell } from '../aggregate/measure-kinds.js';

/** The valid records (columns seq, lh, id, ts, the projection) with their rank among the records of their id. */
export function rankedSql(views: ViewSet, valid: string): string {
  // Without the id: nothing after the dedupe reads it, and it is the widest column of the table
  // every view and sketch query scans (at 20M events the table outgrows DuckDB's memory_limit).
  const cols = ['ts', ...projectionColumns(views).map((c) => c.name)].join(', ');
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
    const aggregate = (c: Cell) => CELLS[c.kind].sqlAggregate(c.kind === 'count' && !c.ofField ? null : colOf(c.measure));
    const distinct = cells.filter((c) => c.kind === 'distinct');
    const perGranularity = view.granularities.map((g) => {
      const ms = granularityMs(g);
      const bucket = `${sql.intDiv('ts', String(ms))} * ${ms}`;
      const kept = `FROM ${ranked} WHERE rn = 1 AND v${i}_on`;
      const dimCols = dims.map((d, j) => `${d} AS d${j}`);
      if (distinct.length !== 1) {
        const select = [`${sql.str(g)} AS granularity`, `${bucket} AS bucket_start`, ...dimCols, ...cells.map((c, k) => `${aggregate(c)} AS m${k}`)];
        return `SELECT ${select.join(', ')} ${kept} GROUP BY ${[bucket, ...dims].join(', ')}`;
      }
      // One distinct measure: grouped by its member first, then per group (a member per row of
      // the inner groups, so count(u) is the distinct count; the other cells roll their partial
      // aggregates up). DuckDB's count(DISTINCT) over 800k minute groups took twice as long at
      // 5M events and more at 20M (bench/results.md, "Batch layer scale").
      const member = colOf((distinct[0] as Cell).measure);
      const others = cells.map((c, k) => (c.kind === 'distinct' ? null : `${aggregate(c)} AS p${k}`)).filter((x) => x !== null);
      const inner = `SELECT ${[`${bucket} AS b`, ...dimCols, `${member} AS u`, ...others].join(', ')} ${kept} GROUP BY ${[bucket, ...dims, member].join(', ')}`;
      const outer = cells.map((c, k) => (c.kind === 'distinct' ? `count(u) AS m${k}` : `${CELLS[c.kind].sqlRollup(`p${k}`)} AS m${k}`));
      const groupBy = ['b', ...dims.map((_, j) => `d${j}`)];
      return `SELECT ${[`${sql.str(g)} AS granularity`, 'b AS bucket_start', ...dims.map((_, j) => `d${j}`), ...outer].join(', ')} FROM (${inner}) GROUP BY ${groupBy.join(', ')}`;
    });
    return { view: view.name, sql: perGranularity.join(' UNION ALL '), dims: dims.length, measures: cells.map((c) => c.name) };
  });
}
