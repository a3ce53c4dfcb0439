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

/** Starts the services in order; `cancelled` (checked before each) ends the start-up early. */
export async function startAll(services: readonly Service[], log: Logger, cancelled: () => boolean = () => false): Promise<() => Promise<void>> {
  const started: Service[] = [];
  try {
    for (const s of services) {
      if (cancelled()) break;
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

/** How long a process may stay alive after every service stopped before it is made to exit. */
const LINGER_MS = 2_000;

/**
 * Starts the services, then waits for SIGTERM/SIGINT and stops them; a second signal exits at once.
 * The handlers are installed first: a signal during start-up (a user's early Ctrl-C, a deployment
 * rolling on) lets the service being started finish, starts no more, and stops those that started,
 * instead of killing the process halfway. The grace period bounds all of that.
 */
export async function runUntilSignal(services: readonly Service[], log: Logger, graceMs: number): Promise<void> {
  let received: NodeJS.Signals | null = null;
  let signalled: () => void = () => undefined;
  const signal = new Promise<void>((resolve) => (signalled = resolve));
  const onSignal = (sig: NodeJS.Signals) => {
    if (received !== null) {
      log.warn({ signal: sig }, 'second signal: exiting now');
      process.exit(130);
    }
    received = sig;
    log.info({ signal: sig }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ graceMs }, 'shutdown grace period exceeded: exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    signalled();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const stop = await startAll(services, log, () => received !== null);
    await signal;
    await stop();
    // Every service stopped. A client whose connect was in flight at the signal (kafkajs, during
    // start-up) can leave a socket or a retry timer behind that keeps Node alive until the grace
    // period ends it with exit 1 (seen in CI: Ctrl-C during start-up). Unref'd: a process with
    // nothing left open exits before this fires, with its own exit code.
    const linger = setTimeout(() => {
      log.warn({ ms: LINGER_MS }, 'something kept the process alive after every service stopped; exiting');
      process.exit();
    }, LINGER_MS);
    linger.unref();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
