/** The one structured logger (pino). Created once by the entry point and passed in. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'lambda-arch'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}

/** A logger that writes nothing, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
