/**
 * `lambda-arch lab duplicates` with the speed dedupe off (issue 20): the speed layer applies the N
 * copies, and the drift report attributes exactly N events of the minute to `duplicates` beside
 * the N originals' late_arrivals, with nothing unexplained. (Dedupe on: test/e2e/lab.test.ts.)
 */
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floorTo, MINUTE_MS } from '../../shared/time.js';
import type { DuplicatesResult } from '../../lab/experiments/duplicates.js';
import { startApp, ADMIN_TOKEN, type AppContext } from '../support/app-context.js';
import { runCli } from '../support/cli-process.js';
import { waitUntil } from '../support/wait.js';

let app: AppContext;

beforeAll(async () => {
  app = await startApp({ LAMBDA_BATCH_CRON: '0 * * * *', LAMBDA_ALLOWED_LATENESS_MS: '0', LAMBDA_SPEED_DEDUPE: 'false' });
}, 120_000);
afterAll(async () => app?.stop());

describe('lambda-arch lab duplicates, dedupe off', () => {
  it('the copies are applied and attributed exactly to duplicates', async () => {
    const start = floorTo(Date.now(), 'minute') - 10 * MINUTE_MS;
    const lines = Array.from({ length: 60 }, (_, i) =>
      JSON.stringify({ id: `base-${i}`, ts: start + i * 10_000, type: 'pageview', url: '/p/1', user: `u${i}` }),
    );
    expect((await app.post('/api/v1/events', lines.join('\n'))).status).toBe(202);
    // The run must include the minute the experiment uses: wait until the archiver has it all.
    await waitUntil(
      () => app.master.readCheckpoints(),
      (cps) => cps.reduce((n, c) => n + c.lastOffset + 1, 0) >= 60,
      { what: 'the archiver to make the 60 events durable', timeoutMs: 60_000 },
    );
    const run = await app.post('/api/v1/batch/runs', '', { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(run.status).toBe(202);
    await waitUntil(
      () => app.get('/api/v1/batch/runs'),
      (x) => x.body.running === null && x.body.runs.length === 1,
      { what: 'the batch run published', timeoutMs: 90_000 },
    );

    const env = { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, HOME: tmpdir() };
    const r = await runCli(['lab', 'duplicates', '--count', '13', '--url', app.url, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as DuplicatesResult;
    expect(result).toMatchObject({ dedupe: false, sent: 13, skipped: 0, applied: 13, lateAdded: 13, duplicatesAdded: 13, unexplainedAfter: 0 });
  });
});
