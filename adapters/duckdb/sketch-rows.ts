/**
 * The `duckdb` engine's sketches (issue 16): per view and distinct measure, the HyperLogLog of
 * every group, with registers identical to the reference engine's (and to PFADD's), built as
 * shared/sql/sketch-sql.ts describes: DuckDB lists the distinct members once, TypeScript hashes
 * each member's UTF-8 bytes (shared/hll, Redis's MurmurHash64A and register rule) into a table of
 * packed registers, DuckDB lists every kept record's register per group of the finest
 * granularity, and TypeScript keeps the largest per index, rolls the coarser granularities up and
 * writes the Redis bytes of each group's registers.
 *
 * Called from the views step of duckdb-engine.ts on the `ranked` table: sketchLists (DuckDB), then
 * sketchRowsOf (TypeScript) while the view queries run.
 */
import { DuckDBBlobVector, DuckDBIntegerVector, DuckDBListVector, type DuckDBConnection, type DuckDBMaterializedResult } from '@duckdb/node-api';
import type { StoredSketch } from '../../shared/aggregate/stored-group.js';
import { LambdaError } from '../../shared/errors.js';
import { bytesOf, utf8 } from './text-bytes.js';
import { PackedUnion } from '../../shared/hll/packed-union.js';
import { BytesArena, packedRegisterOf, redisBytesOfPacked } from '../../shared/hll/sketch.js';
import { DUCKDB } from '../../shared/sql/dialect.js';
import { REGISTERS_COLUMNS, sketchQueries, type SketchQueries } from '../../shared/sql/sketch-sql.js';
import { granularityMs, type Granularity } from '../../shared/time.js';
import type { ViewSet } from '../../shared/views/definition.js';

const REGISTERS = 'sketch_registers';

/** One distinct measure's query (shared/sql/sketch-sql.ts) and its finest groups' register lists, read whole. */
export interface SketchLists {
  query: SketchQueries;
  lists: DuckDBMaterializedResult;
}

/**
 * DuckDB's part of every distinct measure's sketches, from the kept records in `ranked`: the
 * registers of each finest group, listed (sketchRowsOf turns them into sketches). Split from it so
 * duckdb-engine.ts runs the view queries while TypeScript does that: the lists are materialized,
 * so reading them needs no connection, and only one query is on the connection at a time.
 */
export async function sketchLists(db: DuckDBConnection, views: ViewSet, ranked: string, signal: AbortSignal): Promise<SketchLists[]> {
  const out: SketchLists[] = [];
  for (const q of sketchQueries(DUCKDB, views, ranked)) {
    signal.throwIfAborted();
    await db.run(`CREATE OR REPLACE TEMP TABLE ${REGISTERS} (${REGISTERS_COLUMNS})`);
    // 1. hash each distinct member once (read out whole: a query streaming on one connection
    //    while an appender fills a table, and paging by a row_number() column, both hung DuckDB at
    //    5M events; so the appender never runs beside a query on this connection. What does
    //    overlap is later and off the connection: sketchRowsOf beside the view queries)
    const members = (await db.runAndReadAll(`SELECT encode(member) FROM (${q.membersSql})`)).getRows();
    signal.throwIfAborted();
    const appender = await db.createAppender(REGISTERS, 'main', 'temp');
    try {
      for (const [bytes] of members) {
        appender.appendVarchar(utf8(bytesOf(bytes)) as string); // from the bytes: the VARCHAR decoder would drop a leading U+FEFF
        appender.appendInteger(packedRegisterOf(bytesOf(bytes)));
        appender.endRow();
      }
    } finally {
      appender.closeSync();
    }
    signal.throwIfAborted();
    // 2. per group of the finest granularity every kept record's register, as one list (one
    //    aggregation into few groups, read whole: the streamed UNION ALL of every granularity hung
    //    DuckDB at 5M events); the largest per index is kept by sketchRowsOf, and the coarser
    //    granularities are unions of those groups, rolled up there too (rollUp): sorting and
    //    re-grouping registers in SQL, then reading each granularity's lists out, cost more
    //    (bench/results.md).
    const dims = Array.from({ length: q.dims }, (_, j) => `encode(d${j})`);
    out.push({ query: q, lists: await db.run(`SELECT ${['b', ...dims, 'regs'].join(', ')} FROM (${q.listsSql(REGISTERS)})`) });
    await db.run(`DROP TABLE ${REGISTERS}`);
  }
  return out;
}

/** Every non-empty sketch of every distinct measure, from their lists (sketchLists). TypeScript only: no connection. */
export function sketchRowsOf(all: readonly SketchLists[], signal: AbortSignal): StoredSketch[] {
  const out: StoredSketch[] = [];
  const union = new PackedUnion();
  const bytes = new BytesArena();
  for (const { query: q, lists } of all) {
    signal.throwIfAborted();
    const dims = new DimsTable();
    const byGranularity = new Map<Granularity, readonly Group[]>();
    // Each granularity divides the next (minute, hour, day), so each rolls up from the one below.
    const sorted = [...q.granularities].sort((a, b) => granularityMs(a) - granularityMs(b));
    sorted.forEach((granularity, k) => {
      const below = k === 0 ? undefined : byGranularity.get(sorted[k - 1]!);
      byGranularity.set(
        granularity,
        below === undefined ? finestGroups(lists, q.dims, dims, union) : rollUp(below, granularityMs(granularity), dims.size, union),
      );
    });
    for (const granularity of q.granularities) {
      for (const g of byGranularity.get(granularity) ?? []) {
        out.push({
          view: q.view,
          granularity,
          bucketStart: g.bucketStart,
          dims: dims.values[g.dimsId]!,
          measure: q.measure,
          sketch: redisBytesOfPacked(g.packed, g.packed.length, bytes),
        });
      }
    }
  }
  return out;
}

/** One group of a granularity: its non-zero registers, packed, sorted by index, one per index. */
interface Group {
  bucketStart: number;
  /** the group's dims, as their number in the DimsTable: the roll-up's key */
  dimsId: number;
  packed: Int32Array;
}

/**
 * Every distinct tuple of dims values once, numbered: groups share the one array of their dims
 * (a URL's 400 minutes, hours and days hold the same array) and roll up by a number, not a string.
 */
class DimsTable {
  readonly values: (readonly (string | null)[])[] = [];
  private readonly ids = new Map<string, number>();

  get size(): number {
    return this.values.length;
  }

  idOf(dims: (string | null)[]): number {
    // One dimension (the common case) keys by its text; null is kept apart from the text "null".
    const key = dims.length === 1 ? (dims[0] === null ? '\u0000null' : `s${dims[0]}`) : JSON.stringify(dims);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(dims);
      this.ids.set(key, id);
    }
    return id;
  }
}

/**
 * The finest groups from listsSql's result (columns b, d0.., regs), read from the result's vectors
 * rather than as row values: a list's registers are read in place, with no array per list.
 */
function finestGroups(result: DuckDBMaterializedResult, dims: number, table: DimsTable, union: PackedUnion): Group[] {
  const groups: Group[] = [];
  for (let c = 0; c < result.chunkCount; c++) {
    const chunk = result.getChunk(c);
    const buckets = chunk.getColumnVector(0);
    const dimVectors = Array.from({ length: dims }, (_, j) => {
      const v = chunk.getColumnVector(1 + j);
      if (!(v instanceof DuckDBBlobVector)) throw new LambdaError('INTERNAL', 'expected dimension values as bytes from DuckDB');
      return v;
    });
    const lists = chunk.getColumnVector(1 + dims);
    if (!(lists instanceof DuckDBListVector) || !(lists.childVector instanceof DuckDBIntegerVector)) {
      throw new LambdaError('INTERNAL', 'expected lists of INTEGER registers from DuckDB');
    }
    const regs = lists.childVector;
    const rows = chunk.rowCount;
    for (let row = 0; row < rows; row++) {
      const from = lists.getEntryOffset(row);
      const to = from + lists.getEntryLength(row);
      for (let k = from; k < to; k++) union.add(regs.getItem(k) as number);
      const dimsId = table.idOf(dimVectors.map((v) => utf8(v.getItemBytes(row))));
      groups.push({ bucketStart: Number(buckets.getItem(row) as bigint | number), dimsId, packed: union.take() });
    }
  }
  return groups;
}

/**
 * The groups of a coarser granularity (`ms`, a multiple of the groups' own): per group the union
 * of the groups it covers. Keyed by one number, bucket number * dims count + dims id: exact while
 * below 2^53 (bucket numbers since 1970 are at most ~10^8 at a minute), else by text.
 */
function rollUp(groups: readonly Group[], ms: number, dimsCount: number, union: PackedUnion): Group[] {
  const byKey = new Map<number | string, { bucketStart: number; dimsId: number; parts: Int32Array[] }>();
  for (const g of groups) {
    const bucket = Math.floor(g.bucketStart / ms);
    const numeric = bucket * dimsCount + g.dimsId;
    const key = Number.isSafeInteger(numeric) ? numeric : `${bucket} ${g.dimsId}`;
    const into = byKey.get(key);
    if (into === undefined) byKey.set(key, { bucketStart: bucket * ms, dimsId: g.dimsId, parts: [g.packed] });
    else into.parts.push(g.packed);
  }
  const out: Group[] = [];
  for (const { bucketStart, dimsId, parts } of byKey.values()) {
    for (const p of parts) union.addAll(p);
    out.push({ bucketStart, dimsId, packed: union.take() });
  }
  return out;
}
