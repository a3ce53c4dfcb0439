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
import { packedRegisterOf, redisBytesOfPacked } from '../../shared/hll/sketch.js';
import { DUCKDB } from '../../shared/sql/dialect.js';
import { REGISTERS_COLUMNS, sketchQueries } from '../../shared/sql/sketch-sql.js';
import type { Granularity } from '../../shared/time.js';
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
    // 2. per group its registers, sorted by index; the Redis bytes written from them
    const dims = Array.from({ length: q.dims }, (_, j) => `encode(d${j})`);
    // One query per granularity, read whole: the streamed UNION ALL of all of them hung DuckDB at
    // 5M events (an idle executor waiting for a task that never came).
    await db.run(`CREATE OR REPLACE TEMP TABLE ${STAGED} AS ${q.stageSql(REGISTERS)}`);
    for (const groupsSql of q.groupsSql(STAGED)) {
      signal.throwIfAborted();
      const groups = await db.runAndReadAll(`SELECT granularity, bucket_start, ${[...dims, 'regs'].join(', ')} FROM (${groupsSql})`);
      for (const row of groups.getRows()) {
        const regs = row[2 + q.dims];
        if (!(regs instanceof DuckDBListValue)) throw new LambdaError('INTERNAL', 'expected a list of registers from DuckDB');
        out.push({
          view: q.view,
          granularity: row[0] as Granularity,
          bucketStart: Number(row[1] as bigint | number),
          dims: row.slice(2, 2 + q.dims).map(textOf),
          measure: q.measure,
          sketch: redisBytesOfPacked(regs.items as readonly number[]),
        });
      }
    }
    await db.run(`DROP TABLE ${STAGED}`);
    await db.run(`DROP TABLE ${REGISTERS}`);
  }
  return out;
}
