/** Per-test isolation: unique names, a temp data folder, and a Config built from a synthetic env. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../platform/config.js';
import { uniqueName } from './names.js';

export { uniqueName };

export interface TestContext {
  config: Config;
  dataDir: string;
  cleanup(): void;
}

/**
 * The batch engine the environment asks the tests to run (LAMBDA_BATCH_ENGINE; unset: the
 * configuration's default, duckdb). Issue 15: every batch test must pass on both engines
 * (`LAMBDA_BATCH_ENGINE=reference npx vitest run test/integration/batch-*`).
 */
export const BATCH_ENGINE_UNDER_TEST: string | undefined = process.env.LAMBDA_BATCH_ENGINE;

/** A Config for one test: its own topic, Redis key prefix, consumer groups and data folder. */
export function testContext(overrides: Record<string, string> = {}): TestContext {
  const services = inject('services');
  const dataDir = mkdtempSync(join(tmpdir(), 'lambda-test-'));
  const name = uniqueName('t');
  const config = loadConfig(
    {
      KAFKA_BROKERS: services.kafkaBrokers.join(','),
      REDIS_URL: services.redisUrl,
      LAMBDA_TOPIC: name,
      LAMBDA_KEY_PREFIX: name,
      LAMBDA_DATA_DIR: dataDir,
      LAMBDA_LOG_LEVEL: 'silent',
      LAMBDA_ARCHIVER_FLUSH_MS: '200',
      LAMBDA_RETRY_BASE_MS: '50',
      LAMBDA_RETRY_MAX_MS: '1000',
      // The batch tests run on whichever engine the environment names (issue 15: both must pass).
      ...(BATCH_ENGINE_UNDER_TEST === undefined ? {} : { LAMBDA_BATCH_ENGINE: BATCH_ENGINE_UNDER_TEST }),
      ...overrides,
    },
    process.cwd(),
  );
  return { config, dataDir, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
}
