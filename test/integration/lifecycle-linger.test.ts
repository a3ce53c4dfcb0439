/**
 * A clean stop ends the process even when something it forgot keeps Node alive (platform/lifecycle.ts):
 * seen in CI as Ctrl-C during start-up of `lambda-arch all`, where a kafkajs connect in flight left
 * a socket behind and the grace period ended the process with exit 1 twenty seconds later.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('runUntilSignal after every service stopped', () => {
  it('exits with code 0 soon after a SIGINT although a handle is still open, and says so', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/linger-child.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => out.includes('ready') && (clearInterval(t), resolve()), 50);
      child.once('exit', () => (clearInterval(t), reject(new Error(`exited before ready: ${out}`))));
    });
    const signalledAt = Date.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code, out).toBe(0);
    // Well before the 20 s grace period, which would exit 1.
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(out).toContain('something kept the process alive after every service stopped; exiting');
  }, 30_000);
});
