/**
 * Every runnable part (archiver, batch scheduler, speed consumer, HTTP server) is a Service with
 * start() and stop(). `runUntilSignal` starts a list of them and stops them in reverse order on
 * SIGTERM/SIGINT, so Ctrl-C and `kill` both shut down cleanly.
 */
import type { Logger } from './logger.js';

export interface Service {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startAll(services: readonly Service[], log: Logger): Promise<() => Promise<void>> {
  const started: Service[] = [];
  try {
    for (const s of services) {
      log.info({ service: s.name }, 'starting');
      await s.start();
      started.push(s);
    }
  } catch (err) {
    await stopAll(started, log);
    throw err;
  }
  return () => stopAll(started, log);
}

export async function stopAll(services: readonly Service[], log: Logger): Promise<void> {
  for (const s of [...services].reverse()) {
    try {
      log.info({ service: s.name }, 'stopping');
      await s.stop();
    } catch (err) {
      log.error({ err, service: s.name }, 'stop failed');
    }
  }
}

/** Starts the services, then waits for SIGTERM/SIGINT and stops them; a second signal exits at once. */
export async function runUntilSignal(services: readonly Service[], log: Logger, graceMs: number): Promise<void> {
  const stop = await startAll(services, log);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      log.info({ signal }, 'shutting down');
      const timer = setTimeout(() => {
        log.error({ graceMs }, 'shutdown grace period exceeded: exiting');
        process.exit(1);
      }, graceMs);
      timer.unref();
      void stop().then(resolve);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}
