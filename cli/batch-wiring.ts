/**
 * Builds the batch layer's ports (shared/batch/ports.ts) from the adapters: the SQLite catalog and
 * run-file writer, Kafka's topic metadata, the engine LAMBDA_BATCH_ENGINE names, and W published
 * to Redis for the speed layer. The batch layer imports no adapter; this is where they meet it
 * (docs/design-decisions.md, "Ports"). The batch role (wiring.ts), the tests and the bench use it.
 */
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { BatchRunPorts, BatchWatermarkPublisher } from '../shared/batch/ports.js';
import type { BatchRunRecord } from '../shared/batch/run-record.js';
import { createKafka } from '../adapters/kafka/client.js';
import { describeTopic } from '../adapters/kafka/topics.js';
import type { RedisClient } from '../adapters/redis/scripts.js';
import { publishBatchWatermark } from '../adapters/redis/speed-state-store.js';
import { BatchCatalog } from '../adapters/sqlite/catalog.js';
import { writeRunFile } from '../adapters/sqlite/run-file-writer.js';
import { runBatch, type RunBatchDeps } from '../batch-layer/run/run-batch.js';
import { createBatchEngine } from './batch-engines.js';

export type BatchPortsConfig = Pick<Config, 'batch' | 'kafka' | 'masterUrl' | 's3'>;

export function batchRunPorts(config: BatchPortsConfig, log: Logger): BatchRunPorts {
  return {
    openCatalog: (batchDir) => BatchCatalog.open(batchDir),
    writeRunFile,
    // A client per question (one per run), with short timeouts: the run falls back when Kafka is slow.
    describeTopic: (topic) =>
      describeTopic(
        createKafka(config.kafka.brokers, 'lambda-batch-metadata', log, { retries: 2, connectionTimeoutMs: 3_000, requestTimeoutMs: 5_000 }),
        topic,
      ),
    createEngine: () => createBatchEngine(config),
  };
}

/** W to Redis (the key the speed layer reads), never lowered. */
export function redisWatermarkPublisher(redis: RedisClient, keyPrefix: string): BatchWatermarkPublisher {
  return (watermark) => publishBatchWatermark(redis, keyPrefix, watermark);
}

/** One batch run with the adapters the batch role uses: what `lambda-arch batch run` does, for tests and the bench. */
export function runWiredBatch(deps: Omit<RunBatchDeps, 'ports' | 'config'> & { config: RunBatchDeps['config'] & BatchPortsConfig }): Promise<BatchRunRecord> {
  return runBatch({ ...deps, ports: batchRunPorts(deps.config, deps.log) });
}
