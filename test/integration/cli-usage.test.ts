/**
 * `bin/lambda-arch` as a user meets it first: help on every command, and every kind of mistake
 * (unknown command, unknown option, bad option value, bad environment variable) answered with exit
 * code 2 and a message naming what is wrong, never a stack trace and never a process left hanging.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../cli/commands/index.js';
import { cliEnvironment, hasStackTrace, killAllCli, runCli, type CliEnvironment } from '../support/cli-process.js';

describe('lambda-arch usage and errors', () => {
  let cli: CliEnvironment;

  beforeAll(async () => {
    cli = await cliEnvironment();
  });
  afterEach(killAllCli);
  afterAll(async () => {
    await killAllCli();
    await cli.cleanup();
  });

  it('lists every command on --help (exit 0) and on no command at all (exit 2)', async () => {
    const help = await runCli(['--help'], cli.env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: lambda-arch <command>/);
    for (const c of COMMANDS) expect(help.stdout).toContain(`  ${c.name} `);
    const bare = await runCli([], cli.env);
    expect(bare.code).toBe(2);
    for (const c of COMMANDS) expect(bare.stdout + bare.stderr).toContain(`  ${c.name} `);
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))('%s --help prints its usage line and options, exit 0', async (name, cmd) => {
    const r = await runCli([name, '--help'], cli.env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`usage: lambda-arch ${cmd.usage}`);
    for (const option of Object.keys(cmd.optionHelp)) expect(r.stdout).toContain(`--${option}`);
    expect(r.stdout).toContain('--help, -h');
  });

  it('an unknown command exits 2 and lists the commands', async () => {
    const r = await runCli(['frobnicate'], cli.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
    for (const c of COMMANDS) expect(r.stderr).toContain(`  ${c.name} `);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it.each([
    [['all', '--bogus'], '--bogus'],
    [['generate', '--rate', 'fast', '--no-kafka', '--out', 'x.jsonl'], '--rate'],
    [['generate', '--count', '-5', '--no-kafka', '--out', 'x.jsonl'], '--count'],
    [['generate', '--no-kafka'], '--out'],
    [['batch', 'sometimes'], 'run or schedule'],
    [['import'], 'name the JSONL file'],
    [['services', 'sideways'], 'up, down or status'],
  ])('bad usage %j exits 2 naming %s, without a stack trace', async (args, named) => {
    const r = await runCli(args, cli.env);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(named);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it.each([
    ['serve', 'LAMBDA_HTTP_PORT', 'abc'],
    ['all', 'LAMBDA_HTTP_PORT', '70000'],
    ['batch schedule', 'LAMBDA_BATCH_CRON', 'nonsense'],
    ['all', 'LAMBDA_BATCH_CRON', '61 * * * *'],
    ['speed', 'KAFKA_BROKERS', 'no-port-here'],
    ['archiver', 'REDIS_URL', 'localhost:6379'],
    ['serve', 'LAMBDA_ADMIN_TOKEN', 'short'],
    ['batch run', 'LAMBDA_LOG_LEVEL', 'loud'],
    ['import x.jsonl', 'LAMBDA_MASTER_URL', 'ftp://somewhere'],
  ])('%s with a bad %s=%j exits 2 naming the variable, without a stack trace', async (command, variable, value) => {
    const r = await runCli(command.split(' '), { ...cli.env, [variable]: value }, { timeoutMs: 30_000 });
    expect(r.code, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(2);
    expect(r.stderr).toContain(variable);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});
