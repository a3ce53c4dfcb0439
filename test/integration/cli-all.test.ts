/**
 * `lambda-arch all --generate` as a user runs it: it becomes ready, events flow through both paths
 * (speed offsets in Redis grow, master files appear), and a signal stops it cleanly: SIGTERM drains
 * (new connections are refused or told 503 while a request already in flight still completes),
 * the process exits 0 within the grace period with no error logged; SIGINT (Ctrl-C) does the same,
 * also when it arrives while the roles are still starting.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliEnvironment, killAllCli, startCli, type CliEnvironment, type CliProcess } from '../support/cli-process.js';
import { getJson, holdPost, probe } from '../support/cli-http.js';
import { waitUntil } from '../support/wait.js';

const GRACE_MS = 20_000;

interface Status {
  speed: { partitions?: { partition: number; offset: number }[] };
  master: { files?: number };
}

describe('lambda-arch all', () => {
  let cli: CliEnvironment;
  const status = () => getJson<Status>(`${cli.url}/api/v1/status`);
  const speedOffsets = async () => ((await status()).speed.partitions ?? []).reduce((n, p) => n + p.offset, 0);
  const errorLogs = (app: CliProcess) => app.logs().filter((l) => l.level >= 50);

  async function startAll(args: string[]): Promise<CliProcess> {
    const app = startCli(['all', ...args], cli.env);
    await waitUntil(
      () => probe(`${cli.url}/readyz`),
      (s) => s === 200 || !app.running,
      { what: '/readyz to answer 200', timeoutMs: 90_000, intervalMs: 250 },
    );
    expect(app.running, `lambda-arch all exited early:\n${app.stderr}\n${app.stdout.slice(-3000)}`).toBe(true);
    return app;
  }

  beforeAll(async () => {
    cli = await cliEnvironment({
      LAMBDA_BATCH_CRON: '0 0 1 1 *', // no scheduled run in the middle of a shutdown test
      LAMBDA_ARCHIVER_FLUSH_MS: '500',
      LAMBDA_KAFKA_SESSION_TIMEOUT_MS: '6000',
      LAMBDA_SHUTDOWN_GRACE_MS: String(GRACE_MS),
    });
  });
  afterEach(killAllCli);
  afterAll(async () => {
    await killAllCli();
    await cli.cleanup();
  });

  it('becomes ready, events flow to Redis and the master dataset, and SIGTERM drains and exits 0', async () => {
    const app = await startAll(['--generate', '--rate', '200']);

    const first = await waitUntil(speedOffsets, (n) => n > 0, { what: 'the speed layer to apply generated events', timeoutMs: 60_000 });
    await waitUntil(speedOffsets, (n) => n > first, { what: 'speed offsets to keep growing', timeoutMs: 30_000 });
    await waitUntil(
      async () => (await status()).master.files ?? 0,
      (n) => n > 0,
      { what: 'master files to appear', timeoutMs: 60_000 },
    );

    // A request in flight when the signal arrives: headers in (the server answered 100 Continue), body not yet sent.
    const line = JSON.stringify({ id: `inflight-${Date.now()}`, ts: Date.now(), type: 'pageview', url: '/p/1', user: 'u1' });
    const held = await holdPost(`${cli.url}/api/v1/events`, `${line}\n`, 'application/x-ndjson');
    app.signal('SIGTERM');
    // Draining: a new connection is refused, or (on a connection still open) /readyz says 503.
    const seen = await waitUntil(
      () => probe(`${cli.url}/readyz`),
      (s) => s === 'refused' || s === 503,
      { what: '/readyz to stop answering 200', timeoutMs: GRACE_MS },
    );
    expect(['refused', 503]).toContain(seen);
    held.finish();
    const answer = await held.response;
    expect(answer.status, answer.body).toBe(202);
    expect(JSON.parse(answer.body)).toMatchObject({ accepted: 1 });

    // Exit 0: the grace timer would have exited 1, a second signal 130.
    const result = await app.wait(GRACE_MS + 15_000);
    expect(result.code, `${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`).toBe(0);
    expect(errorLogs(app)).toEqual([]);
    expect(app.logs().some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
  });

  it('stops cleanly on SIGINT (Ctrl-C) too, even during start-up (the HTTP server is up before the consumers)', async () => {
    const app = await startAll([]);
    app.signal('SIGINT'); // as soon as /readyz answers: the archiver, speed and batch layers may still be starting
    const result = await app.wait(GRACE_MS + 15_000);
    expect(result.code, `${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`).toBe(0);
    expect(errorLogs(app)).toEqual([]);
    expect(app.logs().some((l) => l.msg === 'shutting down' && l.signal === 'SIGINT')).toBe(true);
    expect(await probe(`${cli.url}/readyz`)).toBe('refused');
  });
});
