/**
 * Stand-alone entry of the batch layer, so it can run (and be killed) as its own process:
 *
 *   node --import tsx batch-layer/main.ts run        one run now; exit 0 when published
 *   node --import tsx batch-layer/main.ts schedule   runs on LAMBDA_BATCH_CRON until SIGTERM/SIGINT
 *
 * Configuration comes from the environment (read here, once) like every role of the CLI.
 * Exit codes of `run`: 0 published, 75 (EX_TEMPFAIL) another run holds the lease, 1 failed.
 * Redis is not used here: the full CLI (`lambda-arch batch`) wires it in for the watermark.
 */
import { loadConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { createMetrics } from '../platform/metrics.js';
import { runUntilSignal } from '../platform/lifecycle.js';
import { isLambdaError } from '../shared/errors.js';
import { loadViewSet } from '../platform/views-file.js';
import { openVerifiedMasterDataset } from '../adapters/master/index.js';
import { BatchLayer } from './batch-layer.js';

export const EXIT_BATCH_RUNNING = 75;

async function main(mode: string): Promise<number> {
  const config = loadConfig(process.env, process.cwd());
  const log = createLogger(config.logLevel, 'batch');
  const layer = new BatchLayer({
    config,
    views: loadViewSet(config.viewsFile),
    master: await openVerifiedMasterDataset(config, log),
    log,
    metrics: createMetrics(),
    schedule: mode === 'schedule',
  });
  if (mode === 'schedule') {
    await runUntilSignal([layer], log, config.shutdownGraceMs);
    return 0;
  }
  try {
    const record = await layer.runNow();
    log.info({ runId: record.runId, watermark: record.watermark }, 'batch run done');
    return 0;
  } catch (err) {
    if (isLambdaError(err) && err.code === 'BATCH_RUNNING') {
      log.warn({ running: err.details }, err.message);
      return EXIT_BATCH_RUNNING;
    }
    log.error({ err }, 'batch run failed');
    return 1;
  } finally {
    await layer.stop();
  }
}

const mode = process.argv[2] ?? 'run';
if (mode !== 'run' && mode !== 'schedule') {
  process.stderr.write(`usage: batch-layer/main.ts run|schedule (got ${JSON.stringify(mode)})\n`);
  process.exit(2);
}
main(mode).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Configuration and views errors land here, before a logger exists: say what is wrong plainly.
    process.stderr.write(`${isLambdaError(err) ? `${err.code}: ` : ''}${(err as Error).message ?? String(err)}\n`);
    process.exit(1);
  },
);
