/**
 * The view queries' results (shared/sql/job-sql.ts viewQueries) as the groups a run file stores,
 * read from the result's column vectors: one vector per column and chunk, and per row only the
 * values themselves. Reading the same rows as row arrays (`getRows`: a JS array and a converted
 * value per cell) took about 1 s of the 5M-event run's 13 s, for ~200,000 groups, on the main
 * thread after the last query (bench/results.md, "where the time went").
 */
import { DuckDBBlobVector, type DuckDBMaterializedResult } from '@duckdb/node-api';
import type { StoredGroup } from '../../shared/aggregate/stored-group.js';
import { LambdaError } from '../../shared/errors.js';
import type { ViewQuery } from '../../shared/sql/job-sql.js';
import { GRANULARITIES, type Granularity } from '../../shared/time.js';
import { utf8 } from './text-bytes.js';

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** A DuckDB integer (BIGINT/HUGEINT arrive as bigint) as an exact JS number, or a loud failure. */
export function exact(v: unknown, what: string): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' ? Number.isSafeInteger(v) : typeof v === 'bigint' && v <= MAX_EXACT && v >= -MAX_EXACT) return Number(v);
  throw new LambdaError('INTERNAL', `${what} overflowed 2^53 (exact integers); use fewer decimals for this measure`);
}

/**
 * The groups of one view query, selected as `granularity, bucket_start, encode(d0).., m0..` (dims
 * as bytes: text-bytes.ts).
 */
export function storedGroupsOf(result: DuckDBMaterializedResult, q: ViewQuery, into: StoredGroup[]): void {
  const what = q.measures.map((m) => `measure "${m}" of view "${q.view}"`);
  for (let c = 0; c < result.chunkCount; c++) {
    const chunk = result.getChunk(c);
    const granularities = chunk.getColumnVector(0);
    const buckets = chunk.getColumnVector(1);
    const dims = Array.from({ length: q.dims }, (_, j) => {
      const v = chunk.getColumnVector(2 + j);
      if (!(v instanceof DuckDBBlobVector)) throw new LambdaError('INTERNAL', 'expected dimension values as bytes from DuckDB');
      return v;
    });
    const measures = q.measures.map((_, k) => chunk.getColumnVector(2 + q.dims + k));
    const rows = chunk.rowCount;
    for (let row = 0; row < rows; row++) {
      const values: Record<string, number | null> = {};
      for (let k = 0; k < measures.length; k++) values[q.measures[k]!] = exact(measures[k]!.getItem(row), what[k]!);
      into.push({
        view: q.view,
        granularity: granularityOf(granularities.getItem(row)),
        bucketStart: exact(buckets.getItem(row), 'bucket start') as number,
        dims: dims.map((v) => utf8(v.getItemBytes(row))),
        values,
      });
    }
  }
}

function granularityOf(v: unknown): Granularity {
  if (typeof v === 'string' && (GRANULARITIES as readonly string[]).includes(v)) return v as Granularity;
  throw new LambdaError('INTERNAL', `expected a granularity from DuckDB, got ${String(v)}`);
}
