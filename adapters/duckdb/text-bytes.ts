/**
 * Text read back from DuckDB crosses as bytes (SQL `encode(x)`, a BLOB): @duckdb/node-api decodes
 * VARCHAR results with a TextDecoder that drops a leading U+FEFF, so a line or a dimension value
 * starting with a byte order mark would come back changed (found by the differential test).
 * Distinct members are hashed as these very bytes: the UTF-8 that ioredis sends to PFADD.
 */
import { DuckDBBlobValue } from '@duckdb/node-api';
import { LambdaError } from '../../shared/errors.js';

/** The bytes of a BLOB value. */
export function bytesOf(v: unknown): Uint8Array {
  if (v instanceof DuckDBBlobValue) return v.bytes;
  throw new LambdaError('INTERNAL', `expected bytes from DuckDB, got ${typeof v}`);
}

/** UTF-8 bytes as text; null stays null. */
export function utf8(b: Uint8Array | null): string | null {
  return b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}

/** A BLOB value (text sent as bytes) as text; SQL NULL as null. */
export function textOf(v: unknown): string | null {
  return v === null || v === undefined ? null : utf8(bytesOf(v));
}
