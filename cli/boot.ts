/** What every command needs first: the configuration (read once, validated) and the logger. */
import { loadConfig, type Config } from '../platform/config.js';
import { createLogger, type Logger, type LogTo } from '../platform/logger.js';

export type { LogTo };

/**
 * `logTo`: stderr for the commands whose stdout is their result, so that
 * `lambda-arch import f.jsonl > report.json` gets the report alone.
 */
export function boot(env: NodeJS.ProcessEnv, logTo: LogTo = 'stdout'): { config: Config; log: Logger } {
  const config = loadConfig(env, process.cwd());
  return { config, log: createLogger(config.logLevel, 'lambda-arch', logTo) };
}
