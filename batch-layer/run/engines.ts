/**
 * Picks the batch engine LAMBDA_BATCH_ENGINE names (shared/batch-engine.ts). The DuckDB adapter is
 * imported only when chosen: its native module has no business in a process that never uses it.
 */
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import type { Config } from '../../platform/config.js';
import type { BatchEngine } from '../../shared/batch-engine.js';
import { ReferenceBatchEngine } from './reference-engine.js';

/**
 * `<batch dir>/duckdb/`: the duckdb engine's spill files during a run. Emptied at the start and end
 * of each run (only the lease holder runs, so nothing else uses it), so a killed run's files go.
 */
export const DUCKDB_DIR = 'duckdb';

export async function createBatchEngine(config: Pick<Config, 'batch' | 'masterUrl' | 's3'>): Promise<BatchEngine> {
  if (config.batch.engine === 'reference') return new ReferenceBatchEngine(config);
  const { DuckDbBatchEngine } = await import('../../adapters/duckdb/duckdb-engine.js');
  return new DuckDbBatchEngine({
    threads: config.batch.workers === 0 ? availableParallelism() : config.batch.workers,
    memoryMb: config.batch.memoryMb,
    workDir: join(config.batch.dir, DUCKDB_DIR),
    fileDelayMs: config.batch.fileDelayMs,
  });
}
