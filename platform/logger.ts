/** The one structured logger (pino). Created once by the entry point and passed in. */
import { destination, pino, type Logger } from 'pino';

export type { Logger };

/**
 * Where the logs go: stdout for the long-running roles (where log collectors look), stderr for the
 * commands whose stdout is their result (import, batch run, generate).
 */
export type LogTo = 'stdout' | 'stderr';

export function createLogger(level: string, name = 'lambda-arch', to: LogTo = 'stdout'): Logger {
  // File descriptors 1 and 2, both synchronous (pino's default for stdout), so nothing is lost on exit.
  return pino({ name, level, base: { pid: process.pid } }, destination(to === 'stdout' ? 1 : 2));
}

/** A logger that writes nothing, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
