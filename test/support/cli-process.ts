/**
 * `bin/lambda-arch` run the way a user runs it: a child process with an environment of its own
 * (unique topic, key prefix, temp data folder, free HTTP port, the test's Kafka and Redis), its
 * output captured, and every process a test started killed afterwards, also when the test failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../platform/config.js';
import { deleteTopics, testKafka } from './archiver-kafka.js';
import { uniqueName } from './names.js';
import { deletePrefix } from './speed-harness.js';
import { freePort } from './free-port.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'bin', 'lambda-arch');

export interface CliEnvironment {
  /** the whole environment of the child: nothing of the test process's own environment leaks in */
  env: Record<string, string>;
  /** the same settings as the child reads them, for the test's own checks */
  config: Config;
  dataDir: string;
  /** http://127.0.0.1:<LAMBDA_HTTP_PORT> */
  url: string;
  /** deletes the topics and Redis keys the child may have created, and the data folder */
  cleanup(): Promise<void>;
}

export async function cliEnvironment(overrides: Record<string, string> = {}): Promise<CliEnvironment> {
  const services = inject('services');
  const dataDir = mkdtempSync(join(tmpdir(), 'lambda-cli-'));
  const name = uniqueName('cli');
  const port = await freePort();
  const env: Record<string, string> = {
    // bin/lambda-arch runs `node`: the one running the tests comes first on the PATH.
    PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: dataDir,
    KAFKA_BROKERS: services.kafkaBrokers.join(','),
    REDIS_URL: services.redisUrl,
    LAMBDA_TOPIC: name,
    LAMBDA_KEY_PREFIX: name,
    LAMBDA_DATA_DIR: dataDir,
    LAMBDA_HTTP_PORT: String(port),
    LAMBDA_LOG_LEVEL: 'info',
    LAMBDA_RETRY_BASE_MS: '50',
    LAMBDA_RETRY_MAX_MS: '1000',
    ...overrides,
  };
  const config = loadConfig(env, dataDir);
  return {
    env,
    config,
    dataDir,
    url: `http://127.0.0.1:${port}`,
    async cleanup() {
      await deleteTopics(testKafka(config.kafka.brokers), [config.kafka.topic, config.kafka.dlqTopic]).catch(() => undefined);
      const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 1 });
      await deletePrefix(redis, config.redis.keyPrefix).finally(() => redis.disconnect());
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  /** exit code, or null when a signal ended it */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `lambda-arch` child: its output so far, signals, and its end. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliResult>;
  private done = false;

  constructor(
    readonly args: readonly string[],
    readonly child: ChildProcess,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (this.stdout += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    // 'close', not 'exit': resolves once the output pipes are drained too.
    this.exited = new Promise((resolve) =>
      child.once('close', (code, signal) => {
        this.done = true;
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      }),
    );
  }

  get running(): boolean {
    return !this.done;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** The log lines (pino JSON on stdout or stderr) parsed; other lines are skipped. */
  logs(): { level: number; msg: string; [k: string]: unknown }[] {
    return `${this.stdout}\n${this.stderr}`
      .split('\n')
      .filter((l) => l.startsWith('{"level":'))
      .map((l) => JSON.parse(l) as { level: number; msg: string });
  }

  /** Resolves with the result, or SIGKILLs the child and fails when it takes longer than `timeoutMs`. */
  async wait(timeoutMs: number): Promise<CliResult> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.signal('SIGKILL');
        reject(
          new Error(
            `lambda-arch ${this.args.join(' ')} did not exit within ${timeoutMs} ms\nstdout:\n${this.stdout.slice(-3000)}\nstderr:\n${this.stderr.slice(-3000)}`,
          ),
        );
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

const started = new Set<CliProcess>();

/** Starts `bin/lambda-arch ...args` (bash execs node, so signals reach the program itself). */
export function startCli(args: readonly string[], env: Record<string, string>, opts: { cwd?: string } = {}): CliProcess {
  const child = spawn(CLI, [...args], { cwd: opts.cwd ?? env.LAMBDA_DATA_DIR ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new CliProcess(args, child);
  started.add(proc);
  void proc.exited.then(() => started.delete(proc));
  return proc;
}

/** Runs a command to its end (SIGKILLed and failed after `timeoutMs`). */
export function runCli(args: readonly string[], env: Record<string, string>, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return startCli(args, env, opts).wait(opts.timeoutMs ?? 60_000);
}

/** For afterEach/afterAll: SIGKILLs every child still running and waits until they are gone. */
export async function killAllCli(): Promise<void> {
  const alive = [...started];
  for (const p of alive) p.signal('SIGKILL');
  await Promise.all(alive.map((p) => p.exited));
}

/** True when the text holds a JavaScript stack frame (a crash leaking out instead of a message). */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+(\(|:\d+:\d+)/m.test(text);
}
