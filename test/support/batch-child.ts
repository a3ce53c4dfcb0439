/**
 * The batch layer as a child process (`lambda-arch batch run|schedule`, the real CLI), for tests
 * that kill it or race it. The child gets the same settings as the test's Config, passed as
 * environment variables.
 */
import type { ChildProcess } from 'node:child_process';
import type { Config } from '../../platform/config.js';
import { spawnCli } from './cli-child.js';

export interface BatchChild {
  child: ChildProcess;
  /** resolves with the exit code (null when killed by a signal) and the signal */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** Environment that makes `lambda-arch batch` load the same batch settings as `config`. */
export function batchEnv(config: Config, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: config.kafka.brokers.join(','),
    REDIS_URL: config.redis.url,
    LAMBDA_DATA_DIR: config.dataDir,
    LAMBDA_MASTER_URL: config.masterUrl,
    LAMBDA_TOPIC: config.kafka.topic,
    LAMBDA_TOPIC_PARTITIONS: String(config.kafka.partitions),
    LAMBDA_KEY_PREFIX: config.redis.keyPrefix,
    LAMBDA_ALLOWED_LATENESS_MS: String(config.allowedLatenessMs),
    LAMBDA_BATCH_WORKERS: String(config.batch.workers),
    LAMBDA_BATCH_KEEP_RUNS: String(config.batch.keepRuns),
    LAMBDA_BATCH_LEASE_MS: String(config.batch.leaseMs),
    LAMBDA_BATCH_DEDUPE_MAX_IDS: String(config.batch.dedupeMaxIds),
    LAMBDA_BATCH_FILE_DELAY_MS: String(config.batch.fileDelayMs),
    LAMBDA_BATCH_ENGINE: config.batch.engine,
    LAMBDA_BATCH_MEMORY_MB: String(config.batch.memoryMb),
    LAMBDA_LOG_LEVEL: 'info',
    ...(config.viewsFile === null ? {} : { LAMBDA_VIEWS_FILE: config.viewsFile }),
    ...extra,
  };
}

export function spawnBatch(mode: 'run' | 'schedule', env: Record<string, string>): BatchChild {
  const child = spawnCli(['batch', mode], env);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => out };
}
