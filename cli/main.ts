/**
 * `lambda-arch <command>`: one CLI with a subcommand per role. This is where the environment
 * enters the program (read once here, validated in platform/config.ts, passed in from then on).
 */
import { isLambdaError } from '../shared/errors.js';
import { helpText, parse, type Command } from './args.js';
import { COMMANDS } from './commands/index.js';

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: lambda-arch <command> [options]   (lambda-arch <command> --help for its options)',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Configuration comes from environment variables (see README.md, "Settings").',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const cmd: Command | undefined = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`lambda-arch: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const { values, positionals } = parse(cmd, rest);
  if (values.help) {
    process.stdout.write(`${helpText(cmd)}\n`);
    return 0;
  }
  return (await cmd.run({ values, positionals, env: process.env })) ?? 0;
}

/**
 * 2: the command line, settings or views are wrong (fix them, do not retry); 75 (EX_TEMPFAIL):
 * another batch run holds the lease (try later; a scheduler or a test tells it from a failure);
 * 1: anything else.
 */
function exitCodeOf(code: string): number {
  if (code === 'VALIDATION' || code === 'CONFIG_INVALID' || code === 'VIEWS_INVALID') return 2;
  return code === 'BATCH_RUNNING' ? 75 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (isLambdaError(err)) {
      process.stderr.write(`lambda-arch: ${err.code}: ${err.message}\n`);
      process.exitCode = exitCodeOf(err.code);
    } else {
      process.stderr.write(`lambda-arch: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
    // Exit now: a command that failed half-way through wiring (e.g. a bad cron expression found
    // after the Redis client was created) may hold clients that would keep the process alive.
    process.exit();
  },
);
