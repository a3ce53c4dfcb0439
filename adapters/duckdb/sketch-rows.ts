/**
 * The `duckdb` engine's sketches (issue 16): per view and distinct measure, the HyperLogLog of
 * every group, with registers identical to the reference engine's (and to PFADD's), built as
 * shared/sql/sketch-sql.ts describes: DuckDB lists the distinct members once, TypeScript hashes
 * each member's UTF-8 bytes (shared/hll, Redis's MurmurHash64A and register rule) into a table of
 * packed registers, DuckDB takes the largest register per group and index, and TypeScript writes
 * the Redis bytes of each group's sorted register list.
 *
 * Called from the views step of duckdb-engine.ts on the `ranked` table.
 */
import { DuckDBBlobValue, DuckDBListValue, type DuckDBConnection } from '@duckdb/node-api';
import type { StoredSketch } from '../../shared/aggregate/stored-group.js';
import { LambdaError } from '../../shared/errors.js';
import { packedRegisterOf, redisBytesOfPacked, unionOfPacked } from '../../shared/hll/sketch.js';
import { DUCKDB } from '../../shared/sql/dialect.js';
import { REGISTERS_COLUMNS, sketchQueries } from '../../shared/sql/sketch-sql.js';
import { granularityMs } from '../../shared/time.js';
import type { ViewSet } from '../../shared/views/definition.js';

const REGISTERS = 'sketch_registers';
const STAGED = 'sketch_staged';

/**
 * Bytes of a BLOB result. Text crosses as bytes (SQL `encode`) for the reason duckdb-engine.ts
 * gives (a leading U+FEFF would be dropped by the VARCHAR decoder); members are hashed as these
 * very bytes, the UTF-8 that ioredis sends to PFADD.
 */
function bytesOf(v: unknown): Uint8Array {
  if (v instanceof DuckDBBlobValue) return v.bytes;
  throw new LambdaError('INTERNAL', `expected bytes from DuckDB, got ${typeof v}`);
}

function textOf(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const b = bytesOf(v);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}

/** Every non-empty sketch of every distinct measure of `views`, from the kept records in `ranked`. */
export async function sketchRows(db: DuckDBConnection, views: ViewSet, ranked: string, signal: AbortSignal): Promise<StoredSketch[]> {
  const out: StoredSketch[] = [];
  for (const q of sketchQueries(DUCKDB, views, ranked)) {
    signal.throwIfAborted();
    await db.run(`CREATE OR REPLACE TEMP TABLE ${REGISTERS} (${REGISTERS_COLUMNS})`);
    // 1. hash each distinct member once (read out whole: a query streaming on one connection
    //    while an appender fills a table, and paging by a row_number() column, both hung DuckDB at
    //    5M events; so nothing overlaps)
    const members = (await db.runAndReadAll(`SELECT encode(member) FROM (${q.membersSql})`)).getRows();
    signal.throwIfAborted();
    const appender = await db.createAppender(REGISTERS, 'main', 'temp');
    try {
      for (const [bytes] of members) {
        appender.appendVarchar(textOf(bytes) as string); // from the bytes: the VARCHAR decoder would drop a leading U+FEFF
        appender.appendInteger(packedRegisterOf(bytesOf(bytes)));
        appender.endRow();
      }
    } finally {
      appender.closeSync();
    }
    signal.throwIfAborted();
    // 2. per group of the finest granularity its registers, sorted by index (one query, read
    //    whole: the streamed UNION ALL of every granularity hung DuckDB at 5M events); the coarser
    //    granularities are unions of those groups, rolled up here (rollUpSketches): reading each
    //    granularity's lists out of DuckDB cost more than the union (bench/results.md).
    const dims = Array.from({ length: q.dims }, (_, j) => `encode(d${j})`);
    await db.run(`CREATE OR REPLACE TEMP TABLE ${STAGED} AS ${q.stageSql(REGISTERS)}`);
    const finestSql = q.groupsSql(STAGED)[q.finest] as string;
    const finest: FinestGroup[] = [];
    for (const row of (await db.runAndReadAll(`SELECT bucket_start, ${[...dims, 'regs'].join(', ')} FROM (${finestSql})`)).getRows()) {
      const regs = row[1 + q.dims];
      if (!(regs instanceof DuckDBListValue)) throw new LambdaError('INTERNAL', 'expected a list of registers from DuckDB');
      finest.push({ bucketStart: Number(row[0] as bigint | number), dims: row.slice(1, 1 + q.dims).map(textOf), packed: regs.items as readonly number[] });
    }
    signal.throwIfAborted();
    q.granularities.forEach((granularity, k) => {
      const groups = k === q.finest ? finest.map((g) => ({ ...g, sketch: redisBytesOfPacked(g.packed) })) : rollUpSketches(finest, granularityMs(granularity));
      for (const g of groups) out.push({ view: q.view, granularity, bucketStart: g.bucketStart, dims: g.dims, measure: q.measure, sketch: g.sketch });
    });
    await db.run(`DROP TABLE ${STAGED}`);
    await db.run(`DROP TABLE ${REGISTERS}`);
  }
  return out;
}

/** One group of the finest granularity: its non-zero registers, packed and sorted by index (SQL sorts them). */
interface FinestGroup {
  bucketStart: number;
  dims: (string | null)[];
  packed: readonly number[];
}

/** The sketches of a coarser granularity (`ms`, a multiple of the finest): per group the union of its finest groups. */
function rollUpSketches(finest: readonly FinestGroup[], ms: number): { bucketStart: number; dims: (string | null)[]; sketch: Uint8Array }[] {
  const groups = new Map<string, { bucketStart: number; dims: (string | null)[]; parts: (readonly number[])[] }>();
  for (const g of finest) {
    const bucketStart = Math.floor(g.bucketStart / ms) * ms;
    const key = JSON.stringify([bucketStart, g.dims]);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { bucketStart, dims: g.dims, parts: [g.packed] });
    else group.parts.push(g.packed);
  }
  return [...groups.values()].map((g) => ({
    bucketStart: g.bucketStart,
    dims: g.dims,
    sketch: g.parts.length === 1 ? redisBytesOfPacked(g.parts[0] as readonly number[]) : unionOfPacked(g.parts),
  }));
}
