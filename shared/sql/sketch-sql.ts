/**
 * The distinct measures' sketches as SQL (issue 16; docs/design-decisions.md, "Uniques"): the same
 * HyperLogLog registers the reference engine hashes from its member sets, with the hashing done
 * once per distinct member instead of once per group and member.
 *
 * Per view and distinct measure, over the kept records (`rn = 1`) the view's filter matched:
 *   1. `membersSql`: every distinct member once. The engine reads them out, hashes each member's
 *      UTF-8 bytes with shared/hll (MurmurHash64A, Redis's seed) into its packed register
 *      (index * 64 + count) and appends (member, reg) to a table `registers`.
 *   2. the duckdb engine: `listsSql`, per bucket of the view's finest granularity and dims, the
 *      packed registers of its kept records as one list (any order, repeats kept): one hash
 *      aggregation into few groups. The engine keeps the largest register per index and rolls
 *      the coarser granularities up from those groups itself (adapters/duckdb/sketch-rows.ts).
 *   2'. the spark engine: `stageSql`, per bucket of the finest granularity and dims, the largest
 *      packed register per register index (the register PFADD of the group's members leaves);
 *      `groupsSql`: per granularity the same rolled up from those rows (registers merge by max),
 *      as one list sorted by index: exactly the non-zero registers of the group's sketch. The
 *      engine writes the Redis bytes from the list (shared/hll/sketch.ts redisBytesOfPacked).
 * Groups without a member get no row (the empty sketch), as in the reference engine.
 */
import { granularityMs, type Granularity } from '../time.js';
import type { ViewSet } from '../views/definition.js';
import type { Dialect } from './dialect.js';
import { projectionColumns } from './projection.js';
import { isSketched } from '../aggregate/measure-kinds.js';

export interface SketchQueries {
  view: string;
  measure: string;
  /** number of dimension columns d0..d<dims-1> of groupsSql */
  dims: number;
  /** column: member (VARCHAR) */
  membersSql: string;
  /** `registers`: a table of (member VARCHAR, reg INTEGER); columns b (bucket of the finest granularity), d0.., regs (list of INTEGER: every kept record's packed register, any order, repeats kept) */
  listsSql(registers: string): string;
  /** `registers` as for listsSql; columns b (bucket of the finest granularity), d0.., reg: the table `groupsSql` reads */
  stageSql(registers: string): string;
  /** from the staged table, one query per granularity; columns granularity, bucket_start, d0.., regs (list of INTEGER) */
  groupsSql(staged: string): string[];
  /** the view's granularities, in the order `groupsSql` gives its queries */
  granularities: readonly Granularity[];
}

/** The columns of the (mid, reg) table the engine fills. */
export const REGISTERS_COLUMNS = 'member VARCHAR, reg INTEGER';

/** One entry per (view, distinct measure), in view then measure order. */
export function sketchQueries(sql: Dialect, views: ViewSet, ranked: string): SketchQueries[] {
  const cols = projectionColumns(views);
  const out: SketchQueries[] = [];
  views.views.forEach((view, i) => {
    const dims = view.dimensions.map((_, j) => `v${i}_d${j}`);
    for (const [name, m] of Object.entries(view.measures)) {
      if (!isSketched(m)) continue;
      const member = cols.find((c) => c.view === i && c.kind === 'measure' && c.measure === name)?.name as string;
      const kept = `${ranked}.rn = 1 AND ${ranked}.v${i}_on`;
      // The finest granularity's registers per group: HLL registers merge by max, so every
      // coarser granularity (a multiple of it) is rolled up from these rows, not from the events.
      const finestMs = Math.min(...view.granularities.map(granularityMs));
      out.push({
        granularities: view.granularities,
        view: view.name,
        measure: name,
        dims: dims.length,
        membersSql: `SELECT DISTINCT ${member} AS member FROM ${ranked} WHERE ${kept} AND ${member} IS NOT NULL`,
        listsSql: (registers) => {
          const bucket = `${sql.intDiv(`${ranked}.ts`, String(finestMs))} * ${finestMs}`;
          const dimCols = dims.map((d, j) => `${ranked}.${d} AS d${j}`);
          return (
            `SELECT ${[`${bucket} AS b`, ...dimCols, `${sql.list('r.reg')} AS regs`].join(', ')} ` +
            `FROM ${ranked} JOIN ${registers} r ON r.member = ${ranked}.${member} ` +
            `WHERE ${kept} GROUP BY ${[bucket, ...dims.map((d) => `${ranked}.${d}`)].join(', ')}`
          );
        },
        stageSql: (registers) => {
          const bucket = `${sql.intDiv(`${ranked}.ts`, String(finestMs))} * ${finestMs}`;
          const dimCols = dims.map((d, j) => `${ranked}.${d} AS d${j}`);
          return (
            `SELECT ${[`${bucket} AS b`, ...dimCols, 'max(r.reg) AS reg'].join(', ')} ` +
            `FROM ${ranked} JOIN ${registers} r ON r.member = ${ranked}.${member} ` +
            `WHERE ${kept} GROUP BY ${[bucket, ...dims.map((d) => `${ranked}.${d}`), sql.intDiv('r.reg', '64')].join(', ')}`
          );
        },
        groupsSql: (staged) =>
          view.granularities.map((g) => {
            const ms = granularityMs(g);
            const groupKey = ['bucket_start', ...dims.map((_, j) => `d${j}`)];
            // The staged rows are the finest granularity's groups, one per register index already.
            if (ms === finestMs) {
              return `SELECT ${sql.str(g)} AS granularity, ${['b AS bucket_start', ...dims.map((_, j) => `d${j}`)].join(', ')}, ${sql.sortedList('reg')} AS regs FROM ${staged} GROUP BY ${['b', ...dims.map((_, j) => `d${j}`)].join(', ')}`;
            }
            // Inner: one row per group and register index, holding that register's value (the
            // largest packed register of the index). Outer: the group's registers as a sorted list.
            const bucket = `${sql.intDiv('b', String(ms))} * ${ms}`;
            const inner =
              `SELECT ${[`${bucket} AS bucket_start`, ...dims.map((_, j) => `d${j}`), 'max(reg) AS reg'].join(', ')} FROM ${staged} ` +
              `GROUP BY ${[bucket, ...dims.map((_, j) => `d${j}`), sql.intDiv('reg', '64')].join(', ')}`;
            return `SELECT ${sql.str(g)} AS granularity, ${groupKey.join(', ')}, ${sql.sortedList('reg')} AS regs FROM (${inner}) GROUP BY ${groupKey.join(', ')}`;
          }),
      });
    }
  });
  return out;
}
