/**
 * The `duckdb` engine's sketches (issue 16): per view and distinct measure, the HyperLogLog of
 * every group, with registers identical to the reference engine's (and to PFADD's), built as
 * shared/sql/sketch-sql.ts describes: DuckDB lists the distinct members once, TypeScript hashes
 * each member's UTF-8 bytes (shared/hll, Redis's MurmurHash64A and register rule) into a table of
 * packed registers, DuckDB takes the largest register per group and index, and TypeScript writes
 * the Redis bytes of each group's sorted register list.
 *
 * Called from the views step of duckdb-engine.ts on the `ranked` table, with a second connection
 * (`side`) for the appender while the first one streams the members.
 */
import { DuckDBBlobValue, DuckDBListValue, type DuckDBConnection } from '@duckdb/node-api';
import type { StoredSketch } from '../../shared/aggregate/stored-group.js';
import { LambdaError } from '../../shared/errors.js';
import { packedRegisterOf, redisBytesOfPacked } from '../../shared/hll/sketch.js';
import { DUCKDB } from '../../shared/sql/dialect.js';
import { REGISTERS_COLUMNS, sketchQueries } from '../../shared/sql/sketch-sql.js';
import type { Granularity } from '../../shared/time.js';
import type { ViewSet } from '../../shared/views/definition.js';

const MEMBERS = 'sketch_members';
const REGISTERS = 'sketch_registers';

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
export async function sketchRows(db: DuckDBConnection, side: DuckDBConnection, views: ViewSet, ranked: string, signal: AbortSignal): Promise<StoredSketch[]> {
  const out: StoredSketch[] = [];
  for (const q of sketchQueries(DUCKDB, views, ranked)) {
    signal.throwIfAborted();
    await db.run(`CREATE OR REPLACE TEMP TABLE ${MEMBERS} AS ${q.membersSql}`);
    await db.run(`CREATE OR REPLACE TABLE ${REGISTERS} (${REGISTERS_COLUMNS})`);
    // 1. hash each distinct member once
    const appender = await side.createAppender(REGISTERS);
    try {
      const members = await db.stream(`SELECT mid, encode(member) FROM ${MEMBERS}`);
      for (let chunk = await members.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await members.fetchChunk()) {
        for (const [mid, member] of chunk.getRows()) {
          appender.appendBigInt(mid as bigint);
          appender.appendInteger(packedRegisterOf(bytesOf(member)));
          appender.endRow();
        }
      }
    } finally {
      appender.closeSync();
    }
    signal.throwIfAborted();
    // 2. per group its registers, sorted by index; the Redis bytes written from them
    const dims = Array.from({ length: q.dims }, (_, j) => `encode(d${j})`);
    const groups = await db.stream(`SELECT granularity, bucket_start, ${[...dims, 'regs'].join(', ')} FROM (${q.groupsSql(MEMBERS, REGISTERS)})`);
    for (let chunk = await groups.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await groups.fetchChunk()) {
      for (const row of chunk.getRows()) {
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
    await db.run(`DROP TABLE ${MEMBERS}`);
    await db.run(`DROP TABLE ${REGISTERS}`);
  }
  return out;
}
