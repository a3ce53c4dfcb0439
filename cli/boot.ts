/** What every command needs first: the configuration (read once, validated) and the logger. */
import { loadConfig, unknownSettings, type Config } from '../platform/config.js';
import { createLogger, type Logger, type LogTo } from '../platform/logger.js';

export type { LogTo };

/**
 * `logTo`: stderr for the commands whose stdout is their result, so that
 * `lambda-arch import f.jsonl > report.json` gets the report alone.
 */
export function boot(env: NodeJS.ProcessEnv, logTo: LogTo = 'stdout'): { config: Config; log: Logger } {
  const config = loadConfig(env, process.cwd());
  const log = createLogger(config.logLevel, 'lambda-arch', logTo);
  const unknown = unknownSettings(env);
  if (unknown.length > 0)
    log.warn({ unknown }, `unknown setting(s) ignored: ${unknown.join(', ')} (misspelt? \`lambda-arch <command> --help\` and the README list the settings)`);
  return { config, log };
}
