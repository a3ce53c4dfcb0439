/** Tiny argument helpers over node:util parseArgs: every command declares its options and help. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LambdaError } from '../shared/errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Options;
  /** One line per option for --help, in the same order as `options`. */
  optionHelp: Record<string, string>;
  run(args: { values: Record<string, string | boolean | undefined>; positionals: string[]; env: NodeJS.ProcessEnv }): Promise<number | void>;
}

export function parse(cmd: Command, argv: string[]) {
  try {
    return parseArgs({ args: argv, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new LambdaError('VALIDATION', `${cmd.name}: ${(err as Error).message}\n\n${helpText(cmd)}`);
  }
}

export function helpText(cmd: Command): string {
  const lines = [`usage: lambda-arch ${cmd.usage}`, '', cmd.summary];
  const names = Object.keys(cmd.optionHelp);
  if (names.length) {
    lines.push('', 'options:');
    for (const name of names) {
      const o = cmd.options[name];
      const flag = `--${name}${o?.type === 'string' ? ' <value>' : ''}`;
      lines.push(`  ${flag.padEnd(24)} ${cmd.optionHelp[name]}`);
    }
  }
  lines.push('  --help, -h               show this help');
  return lines.join('\n');
}

/** A number option: a clear error naming the option when it is not a number in range. */
export function num(values: Record<string, unknown>, name: string, dflt: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = values[name];
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new LambdaError('VALIDATION', `--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}
