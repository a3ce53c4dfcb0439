/**
 * Picks the batch engine LAMBDA_BATCH_ENGINE names (shared/batch-engine.ts). The DuckDB and Spark
 * adapters are imported only when chosen: a native module or a JVM has no business in a process
 * that never uses it. Wiring, so it lives in cli/: the batch layer imports no adapter and gets the
 * engine through BatchRunPorts.createEngine (docs/design-decisions.md, "Ports").
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import type { Config } from '../platform/config.js';
import type { BatchEngine } from '../shared/batch-engine.js';
import { workerMasterRef } from '../adapters/master/worker-open.js';
import { ReferenceBatchEngine } from '../batch-layer/run/reference-engine.js';

/**
 * `<batch dir>/duckdb/`: the duckdb engine's spill files during a run. Emptied at the start and end
 * of each run (only the lease holder runs, so nothing else uses it), so a killed run's files go.
 */
export const DUCKDB_DIR = 'duckdb';

/** `<batch dir>/spark/`: the spark engine's scratch and exchanged files, emptied like DUCKDB_DIR. */
export const SPARK_DIR = 'spark';

/** The Spark driver and its jars (scripts/spark.sh builds services/spark/target). */
export const SPARK_HOME = fileURLToPath(new URL('../services/spark/', import.meta.url));

/** The reference engine, its map workers opening the master dataset `config.masterUrl` names. */
export function referenceEngine(config: Pick<Config, 'batch' | 'masterUrl' | 's3'>): ReferenceBatchEngine {
  return new ReferenceBatchEngine(config, workerMasterRef(config));
}

export async function createBatchEngine(config: Pick<Config, 'batch' | 'masterUrl' | 's3'>): Promise<BatchEngine> {
  if (config.batch.engine === 'reference') return referenceEngine(config);
  const threads = config.batch.workers === 0 ? availableParallelism() : config.batch.workers;
  if (config.batch.engine === 'spark') {
    const { SparkBatchEngine } = await import('../adapters/spark/spark-engine.js');
    return new SparkBatchEngine({
      home: SPARK_HOME,
      master: config.batch.sparkMaster,
      heapMb: Math.max(1024, config.batch.memoryMb),
      threads,
      workDir: join(config.batch.dir, SPARK_DIR),
      // An S3 master dataset: Spark reads its objects through s3a with the same settings.
      ...(config.masterUrl.startsWith('s3://') ? { s3: config.s3 } : {}),
    });
  }
  const { DuckDbBatchEngine } = await import('../adapters/duckdb/duckdb-engine.js');
  return new DuckDbBatchEngine({
    threads,
    memoryMb: config.batch.memoryMb,
    workDir: join(config.batch.dir, DUCKDB_DIR),
    fileDelayMs: config.batch.fileDelayMs,
    compact: config.batch.compact,
  });
}
