/** What every command needs first: the configuration (read once, validated) and the logger. */
import { loadConfig, type Config } from '../platform/config.js';
import { createLogger, type Logger } from '../platform/logger.js';

export function boot(env: NodeJS.ProcessEnv): { config: Config; log: Logger } {
  const config = loadConfig(env, process.cwd());
  return { config, log: createLogger(config.logLevel) };
}
