/**
 * The teaching lab's runtime experiments (issue 20) from the CLI, against the real service, with
 * the speed layer in two processes (the service's own and a `lambda-arch speed` child, one
 * partition each), so every switch must reach another process through Redis:
 *  - `lab dedupe off|default`: each partition's consumer reports the dedupe it applies and where
 *    it comes from; the status says the same;
 *  - `lab duplicates --dedupe off`: switched for the run (N copies applied and attributed to
 *    `duplicates`), and back;
 *  - `lab pause`: the lag grows by N while nothing is applied, then the consumers catch up and
 *    apply exactly the N, each once;
 *  - `lab invalid --batch`: N records of each kind dead-lettered by both layers with their reason
 *    (read back from the dead-letter topic), counted by reason by the speed layer, the valid ones
 *    counted, and a batch run whose invalid counters do not move (the archiver keeps invalid
 *    records out of the master dataset) while its kept events grow by the valid ones.
 * And the admin routes refuse a call without the token or with a wrong body.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../adapters/kafka/dlq.js';
import { floorTo, MINUTE_MS } from '../../shared/time.js';
import type { DedupeResult } from '../../lab/experiments/dedupe.js';
import type { DuplicatesResult } from '../../lab/experiments/duplicates.js';
import type { PauseResult } from '../../lab/experiments/pause.js';
import { INVALID_KINDS, type InvalidResult } from '../../lab/experiments/invalid.js';
import { readWholeTopic, testKafka } from '../support/archiver-kafka.js';
import { startApp, ADMIN_TOKEN, type AppContext, archivedAll } from '../support/app-context.js';
import { runCli } from '../support/cli-process.js';
import { spawnSpeed, type SpeedProcess } from '../support/speed-harness.js';
import { waitUntil } from '../support/wait.js';

let app: AppContext;
let other: SpeedProcess;
let logDir: string;
const cliEnv = (extra: Record<string, string> = {}) => ({ PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, HOME: tmpdir(), ...extra });

beforeAll(async () => {
  app = await startApp({ LAMBDA_BATCH_CRON: '0 * * * *', LAMBDA_ALLOWED_LATENESS_MS: '0', LAMBDA_TOPIC_PARTITIONS: '2' });
  logDir = mkdtempSync(join(tmpdir(), 'lab-runtime-'));
  other = spawnSpeed(app.config, join(logDir, 'speed.log'));
  // One partition per process: both must obey every switch.
  await waitUntil(
    () => app.get('/api/v1/status'),
    (s) => {
      const parts = (s.body.speed.partitions ?? []) as { stale: boolean; instance: string | null }[];
      return parts.length === 2 && parts.every((p) => !p.stale) && new Set(parts.map((p) => p.instance)).size === 2;
    },
    { what: 'the two speed processes to own a partition each', timeoutMs: 60_000, intervalMs: 250 },
  );
}, 120_000);
afterAll(async () => {
  other?.child.kill('SIGTERM');
  await other?.exited;
  await app?.stop();
  if (logDir) rmSync(logDir, { recursive: true, force: true });
});

async function lab<T>(args: string[]): Promise<{ result: T; explanation: string }> {
  const r = await runCli(['lab', ...args, '--url', app.url, '--json'], cliEnv({ LAMBDA_ADMIN_TOKEN: ADMIN_TOKEN }), { timeoutMs: 240_000 });
  expect(r.code, r.stderr).toBe(0);
  return { result: JSON.parse(r.stdout.trim().split('\n').pop()!) as T, explanation: r.stderr };
}

const put = (path: string, body: string, headers: Record<string, string> = {}) =>
  app.get(path, { method: 'PUT', body, headers: { 'content-type': 'application/json', ...headers } });
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('lambda-arch lab: the runtime experiments', () => {
  it('refuses the admin routes without the token, and a body that is not the documented one', async () => {
    expect((await put('/api/v1/admin/speed/dedupe', '{"enabled":false}')).status).toBe(401);
    expect((await put('/api/v1/admin/speed/pause', '{"paused":true}', { authorization: 'Bearer wrong-token-1' })).status).toBe(403);
    expect((await app.post('/api/v1/admin/events/raw', 'not json')).status).toBe(401);
    const bad = await put('/api/v1/admin/speed/dedupe', '{"enabled":"no"}', admin);
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain('body field "enabled"');
    const extra = await put('/api/v1/admin/speed/pause', '{"paused":true,"why":1}', admin);
    expect(extra.status).toBe(400);
    expect(extra.body.detail).toContain('"why"');
    expect((await app.post('/api/v1/admin/events/raw', '\n \n', admin)).status).toBe(400);
    const noSuchPartition = await app.post('/api/v1/admin/events/raw?partition=2', '{"id":"x"}', admin);
    expect(noSuchPartition.status).toBe(400);
    expect(noSuchPartition.body.detail).toContain('"partition": 2 is not a partition of the event topic (LAMBDA_TOPIC_PARTITIONS = 2: 0 to 1)');
    // Nothing changed: the control was never written.
    expect((await app.get('/api/v1/status')).body.speed.control).toEqual({ dedupe: null, paused: false, version: 0, updatedAt: null });

    const cli = await runCli(['lab', 'dedupe', 'sometimes', '--url', app.url], cliEnv({ LAMBDA_ADMIN_TOKEN: ADMIN_TOKEN }));
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('expected one of on, off, default');
    const sideways = await runCli(['lab', 'duplicates', '--copies', 'sideways', '--url', app.url], cliEnv({ LAMBDA_ADMIN_TOKEN: ADMIN_TOKEN }));
    expect(sideways.code).toBe(2);
    expect(sideways.stderr).toContain('--copies must be same-partition or other-partition');
    const kinds = await runCli(['lab', 'invalid', '--kinds', 'not_json,typo', '--url', app.url], cliEnv({ LAMBDA_ADMIN_TOKEN: ADMIN_TOKEN }));
    expect(kinds.code).toBe(2);
    expect(kinds.stderr).toContain('--kinds');
    const noToken = await runCli(['lab', 'pause', '--url', app.url], cliEnv());
    expect(noToken.code).not.toBe(0);
    expect(noToken.stderr).toContain('admin token');
  });

  it('dedupe switched at runtime in both processes; duplicates with the dedupe off for one run; pause; invalid records', async () => {
    const off = await lab<DedupeResult>(['dedupe', 'off']);
    expect(off.explanation).toContain('without a restart');
    expect(off.result).toMatchObject({ setting: 'off', before: { dedupe: true, from: 'LAMBDA_SPEED_DEDUPE' }, after: { dedupe: false, from: 'admin' } });
    expect(off.result.partitions).toEqual([
      { partition: 0, dedupe: false, dedupeFrom: 'admin' },
      { partition: 1, dedupe: false, dedupeFrom: 'admin' },
    ]);
    const status = (await app.get('/api/v1/status')).body;
    expect(status.speed.dedupe).toEqual({ effective: false, from: 'admin' });
    expect(status.speed.control).toMatchObject({ dedupe: false, paused: false, version: off.result.version });
    expect(status.config.speedDedupe).toBe(true); // this process's LAMBDA_SPEED_DEDUPE, unchanged
    const back = await lab<DedupeResult>(['dedupe', 'default']);
    expect(back.result.after).toEqual({ dedupe: true, from: 'LAMBDA_SPEED_DEDUPE' });
    expect((await app.get('/api/v1/status')).body.speed.control.dedupe).toBeNull();

    // A published run for the duplicates to be late for: 20 minutes of pageviews, archived, then a run.
    const start = floorTo(Date.now(), 'minute') - 20 * MINUTE_MS;
    const lines = Array.from({ length: 120 }, (_, i) =>
      JSON.stringify({ id: `base-${i}`, ts: start + i * 10_000, type: 'pageview', url: `/p/${i % 3}`, user: `u${i % 30}` }),
    );
    expect((await app.post('/api/v1/events', lines.join('\n'))).status).toBe(202);
    await archivedAll(app);
    expect((await app.post('/api/v1/batch/runs', '', admin)).status).toBe(202);
    await waitUntil(
      () => app.get('/api/v1/batch/runs'),
      (x) => x.body.running === null && x.body.runs.length === 1,
      { what: 'the first batch run', timeoutMs: 90_000 },
    );

    const dup = await lab<DuplicatesResult>(['duplicates', '--count', '9', '--dedupe', 'off']);
    expect(dup.explanation).toContain('switched back');
    expect(dup.result).toMatchObject({
      dedupe: false,
      sent: 9,
      skipped: 0,
      applied: 9,
      lateAdded: 9,
      duplicatesAdded: 9,
      unexplainedAfter: 0,
      switched: { to: false, restoredTo: null },
    });
    expect((await app.get('/api/v1/status')).body.speed.dedupe).toEqual({ effective: true, from: 'LAMBDA_SPEED_DEDUPE' });

    // Copies on the other partition, so the other process's consumer meets them: dedupe (on) still
    // skips each, because ids are claimed across partitions.
    const spread = await lab<DuplicatesResult>(['duplicates', '--count', '7', '--copies', 'other-partition']);
    expect(spread.explanation).toContain('another partition');
    expect(spread.result).toMatchObject({
      copies: 'other-partition',
      dedupe: true,
      sent: 7,
      skipped: 7,
      applied: 0,
      lateAdded: 7,
      duplicatesAdded: 0,
      unexplainedAfter: 0,
    });

    const pause = await lab<PauseResult>(['pause', '--count', '40']);
    expect(pause.explanation).toContain('lag');
    expect(pause.result).toMatchObject({
      sent: 40,
      appliedWhilePaused: 0,
      offsetsMovedWhilePaused: 0,
      appliedAfterResume: 40,
      counted: 40,
      lagAfter: 0,
      duplicatesApplied: 0,
      duplicatesSkipped: 0,
    });
    expect(pause.result.lagWhilePaused - pause.result.lagAtPause).toBe(40);
    const afterPause = (await app.get('/api/v1/status')).body.speed;
    expect(afterPause.control.paused).toBe(false);
    expect(afterPause.partitions.every((p: { control: { paused: boolean } }) => p.control.paused === false)).toBe(true);

    // Everything so far in a run, so the next run's kept events grow by the invalid experiment's valid ones alone.
    await archivedAll(app);
    expect((await app.post('/api/v1/batch/runs', '', admin)).status).toBe(202);
    await waitUntil(
      () => app.get('/api/v1/batch/runs'),
      (x) => x.body.running === null && x.body.runs.length === 2,
      { what: 'the second batch run', timeoutMs: 90_000 },
    );

    const bad = await lab<InvalidResult>(['invalid', '--count', '3', '--valid', '8', '--batch']);
    expect(bad.explanation).toContain('dead-letter topic');
    const each = Object.fromEntries(INVALID_KINDS.map((k) => [k, 3]));
    expect(bad.result).toMatchObject({
      sentInvalid: each,
      sentValid: 8,
      speedInvalidByReason: each,
      archiverInvalidByReason: each,
      validCounted: 8,
      deadLettersAdded: 2 * 21,
    });
    expect(bad.result.batch).toMatchObject({ invalidAdded: {}, eventsKeptAdded: 8 });
    // The dead-letter topic itself: one letter per invalid record from each layer, with its reason.
    const letters = (await readWholeTopic(testKafka(app.config.kafka.brokers), app.config.kafka.dlqTopic)).filter((l) => l.key === bad.result.key);
    const byLayer = (layer: string) => {
      const out: Record<string, number> = {};
      for (const l of letters.filter((x) => x.headers[DLQ_HEADERS.layer] === layer))
        out[l.headers[DLQ_HEADERS.reason]!] = (out[l.headers[DLQ_HEADERS.reason]!] ?? 0) + 1;
      return out;
    };
    expect(byLayer('speed')).toEqual(each);
    expect(byLayer('archiver')).toEqual(each);
  });
});
