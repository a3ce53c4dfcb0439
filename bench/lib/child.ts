/** Bench scripts in child processes (node --import tsx), so each one's CPU and memory are its own. */

/** Runs a script to its end and returns the last JSON line it printed. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { repoRoot } from './services.js';

export async function runJsonChild<T>(script: string, env: Record<string, string>, cwd = repoRoot, timeoutMs = 20 * 60_000): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  const line = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`${script} failed (exit ${code}):\n${err.slice(-4000)}\n${out.slice(-2000)}`);
  return JSON.parse(line) as T;
}

/**
 * Starts a long-running bench child that prints a JSON line with "ready": true once it is ready
 * (e.g. with a server's URL) and runs until SIGTERM. Resolves with that line and the process.
 */
export async function startReadyChild<T>(
  script: string,
  env: Record<string, string>,
  logPath: string,
  nodeFlags: readonly string[] = [],
): Promise<{ ready: T; child: ChildProcess; laterOutput: () => string }> {
  const log = openSync(logPath, 'a');
  // The node flags of bin/lambda-arch, so servers run as the CLI runs them.
  const child = spawn(process.execPath, ['--max-semi-space-size=64', ...nodeFlags, '--import', 'tsx', script], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', log],
  });
  closeSync(log);
  const stdout = child.stdout;
  if (stdout === null) throw new Error('no stdout pipe');
  const ready = await new Promise<T>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      // Log lines may come first (pino writes JSON to stdout too): the ready line says "ready": true.
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        try {
          const parsed = JSON.parse(line) as { ready?: unknown };
          if (parsed.ready === true) {
            stdout.off('data', onData);
            resolve(parsed as T);
            return;
          }
        } catch {
          // not JSON: keep looking
        }
      }
    };
    stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited (code ${code}) before it was ready; see ${logPath}`)));
  });
  let later = '';
  stdout.on('data', (d: Buffer) => (later += d.toString()));
  return { ready, child, laterOutput: () => later };
}
