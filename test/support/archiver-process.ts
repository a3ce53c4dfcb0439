/**
 * Runs the archiver as a child process (`lambda-arch archiver`, the real CLI), so a test can SIGKILL it at
 * any moment, as a crash or `kill -9` would. Its configuration is passed as environment variables
 * built from the test's Config, exactly as a deployment would set them.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Config } from '../../platform/config.js';
import { spawnCli } from './cli-child.js';

export function archiverEnv(config: Config, dataDir: string): Record<string, string> {
  return {
    KAFKA_BROKERS: config.kafka.brokers.join(','),
    LAMBDA_TOPIC: config.kafka.topic,
    LAMBDA_TOPIC_PARTITIONS: String(config.kafka.partitions),
    LAMBDA_KEY_PREFIX: config.redis.keyPrefix,
    LAMBDA_DATA_DIR: dataDir,
    LAMBDA_MASTER_URL: config.masterUrl,
    LAMBDA_ARCHIVER_FLUSH_MS: String(config.archiver.flushMs),
    LAMBDA_ARCHIVER_FLUSH_EVENTS: String(config.archiver.flushEvents),
    LAMBDA_KAFKA_SESSION_TIMEOUT_MS: String(config.kafka.sessionTimeoutMs),
    LAMBDA_RETRY_BASE_MS: String(config.retry.baseMs),
    LAMBDA_RETRY_MAX_MS: String(config.retry.maxMs),
    LAMBDA_SHUTDOWN_GRACE_MS: '20000',
    LAMBDA_LOG_LEVEL: 'info',
  };
}

export interface ArchiverProcess {
  child: ChildProcess;
  /** resolves with the exit code (null when killed by a signal) */
  exited: Promise<number | null>;
}

/** Starts `lambda-arch archiver` with `env` (archiverEnv and more); its output is appended to `logPath`. */
export function spawnArchiverWith(env: Record<string, string>, logPath: string): ArchiverProcess {
  const out = openSync(logPath, 'a');
  const child = spawnCli(['archiver'], env, ['ignore', out, out]);
  closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

/** Starts `lambda-arch archiver` configured from `config`; its output is appended to `logPath`. */
export function spawnArchiver(config: Config, dataDir: string, logPath: string): ArchiverProcess {
  return spawnArchiverWith(archiverEnv(config, dataDir), logPath);
}

/**
 * SIGKILLs the archiver the moment a new segment file appears under `masterRoot`: the narrowest
 * window of a flush, after the file and before the commit and checkpoint. Resolves once it fired.
 */
export async function killOnNextSegment(proc: ArchiverProcess, masterRoot: string): Promise<void> {
  const { watch } = await import('node:fs');
  await new Promise<void>((resolve) => {
    const watcher = watch(masterRoot, { recursive: true }, (_event, name) => {
      if (!name || !String(name).endsWith('.jsonl.gz')) return;
      proc.child.kill('SIGKILL');
      watcher.close();
      resolve();
    });
  });
}
