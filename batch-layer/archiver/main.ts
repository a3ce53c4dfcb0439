/**
 * The archiver as a process of its own: `node --import tsx batch-layer/archiver/main.ts`, configured
 * by the environment (like cli/main.ts, this entry point is allowed to read process.env). Tests
 * spawn it to SIGKILL it mid-stream; SIGTERM/SIGINT stop it cleanly (flush, commit, checkpoint).
 */
import { readFileSync } from 'node:fs';
import { openVerifiedMasterDataset } from '../../adapters/master/index.js';
import { loadConfig } from '../../platform/config.js';
import { runUntilSignal } from '../../platform/lifecycle.js';
import { createLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { loadViews } from '../../shared/views/load.js';
import { Archiver } from './archiver.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env, process.cwd());
  const log = createLogger(config.logLevel, 'lambda-archiver');
  const views = config.viewsFile ? loadViews(readFileSync(config.viewsFile, 'utf8'), config.viewsFile) : defaultViewSet();
  // A consumer that kafkajs gave up on leaves nothing to do: exit non-zero so a supervisor restarts us.
  const onFatal = () => process.exit(1);
  const archiver = new Archiver({ config, log, metrics: createMetrics(), views, master: await openVerifiedMasterDataset(config, log), onFatal });
  await runUntilSignal([archiver], log, config.shutdownGraceMs);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`archiver: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
