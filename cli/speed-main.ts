/**
 * Entry point that runs the speed layer alone in its own process (`node --import tsx
 * cli/speed-main.ts`): configuration from the environment, stop on SIGTERM/SIGINT. Tests spawn
 * it so they can SIGKILL it mid-stream; the CLI's `speed` command does the same wiring
 * (speed-wiring.ts). It lives in cli/ because only the CLI wires adapters (docs/design-decisions.md, "Ports").
 */
import { loadConfig } from '../platform/config.js';
import { runUntilSignal } from '../platform/lifecycle.js';
import { createLogger } from '../platform/logger.js';
import { createMetrics } from '../platform/metrics.js';
import { loadViewSet } from '../platform/views-file.js';
import { createSpeedLayer } from './speed-wiring.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env, process.cwd());
  const log = createLogger(config.logLevel, 'lambda-speed');
  const views = loadViewSet(config.viewsFile);
  const layer = createSpeedLayer({ config, views, log, metrics: createMetrics({ defaultMetrics: true }) });
  await runUntilSignal([layer], log, config.shutdownGraceMs);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`speed layer failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
