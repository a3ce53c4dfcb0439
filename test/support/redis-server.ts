/**
 * A redis-server of the test's own, on a free port in a temp folder, with AOF (fsync on every
 * write, so a kill -9 loses nothing acknowledged): for tests that must stop and restart Redis
 * without touching the shared one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitUntil } from './wait.js';
import { freePort } from './free-port.js';

export interface OwnRedisServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** true while the server process runs */
  readonly running: boolean;
  /** SIGKILL, as a crash would; resolves when the process is gone */
  kill(): Promise<void>;
  /** starts it again on the same port and folder (the AOF brings the data back); resolves when it answers */
  start(): Promise<void>;
  /** kills it and removes its folder */
  close(): Promise<void>;
}

async function answers(port: number): Promise<boolean> {
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export async function startRedisServer(): Promise<OwnRedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lambda-redis-'));
  let proc: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
      '--logfile',
      join(dir, 'redis.log'),
    ];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    proc = child;
    exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitUntil(
      () => answers(port),
      (ok) => ok,
      { what: `own redis-server on port ${port} to answer`, timeoutMs: 20_000, intervalMs: 50 },
    );
  };
  const kill = async () => {
    if (proc === null) return;
    proc.kill('SIGKILL');
    await exited;
    proc = null;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get running() {
      return proc !== null;
    },
    kill,
    start,
    close: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
