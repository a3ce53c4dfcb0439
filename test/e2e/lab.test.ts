/**
 * The teaching lab from the CLI (issue 20), against the real service (Kafka, Redis, archiver,
 * batch runs, HTTP): `batch-now` publishes a run and the minute buckets before its boundary flip
 * from the speed layer to the batch run; `late` sends events for a minute the run covers and the
 * drift report attributes exactly that many to late_arrivals, with nothing unexplained. Each
 * experiment runs through the real CLI, as a learner runs it, and prints its result as JSON.
 * `duplicates` sends N events and the same N records again: with dedupe on (here) the speed layer
 * skips the copies; with dedupe off (test/e2e/lab-dedupe-off.test.ts) the report attributes them.
 */
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endOffsets } from '../../adapters/kafka/topics.js';
import { floorTo, MINUTE_MS } from '../../shared/time.js';
import type { BatchNowResult } from '../../lab/experiments/batch-now.js';
import type { LateArrivalsResult } from '../../lab/experiments/late-arrivals.js';
import type { DuplicatesResult } from '../../lab/experiments/duplicates.js';
import { testKafka } from '../support/archiver-kafka.js';
import { startApp, ADMIN_TOKEN, type AppContext, archivedAll } from '../support/app-context.js';
import { runCli } from '../support/cli-process.js';
import { waitUntil } from '../support/wait.js';

let app: AppContext;
/** The CLI needs no service settings for the lab: only the URL (and the token for batch-now). */
const cliEnv = (extra: Record<string, string> = {}) => ({ PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, HOME: tmpdir(), ...extra });

beforeAll(async () => {
  app = await startApp({ LAMBDA_BATCH_CRON: '0 * * * *', LAMBDA_ALLOWED_LATENESS_MS: '0', LAMBDA_TOPIC_PARTITIONS: '2' });
}, 120_000);
afterAll(async () => app?.stop());

/** Runs `lambda-arch lab ...` against the test service; its last stdout line is the JSON result. */
async function lab<T>(args: string[]): Promise<{ result: T; explanation: string }> {
  const r = await runCli(['lab', ...args, '--url', app.url, '--json'], cliEnv({ LAMBDA_ADMIN_TOKEN: ADMIN_TOKEN }));
  expect(r.code, r.stderr).toBe(0);
  return { result: JSON.parse(r.stdout.trim().split('\n').pop()!) as T, explanation: r.stderr };
}

describe('lambda-arch lab', () => {
  it('batch-now: the buckets before the new boundary flip from speed to batch; late: exactly N late arrivals attributed', async () => {
    // 30 minutes of pageviews up to now, applied by the speed layer and made durable by the archiver.
    const now = Date.now();
    const start = floorTo(now, 'minute') - 30 * MINUTE_MS;
    const lines = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({ id: `base-${i}`, ts: start + i * 6_000, type: 'pageview', url: `/p/${i % 4}`, user: `u${i % 60}` }),
    );
    expect((await app.post('/api/v1/events', lines.join('\n'))).status).toBe(202);
    const ends = await endOffsets(testKafka(app.config.kafka.brokers), app.config.kafka.topic);
    const total = [...ends.values()].reduce((a, b) => a + b, 0);
    await waitUntil(
      async () => (await app.get('/api/v1/status')).body.speed.partitions.reduce((s: number, p: { offset: number }) => s + p.offset, 0),
      (n) => n === total,
      { what: `the speed layer to apply ${total} records`, timeoutMs: 60_000 },
    );
    await archivedAll(app);

    const batch = await lab<BatchNowResult>(['batch-now']);
    expect(batch.explanation).toContain('watermark W');
    expect(batch.result.before.runId).toBeNull();
    expect(batch.result.before.batchBuckets).toBe(0);
    expect(batch.result.after.runId).not.toBeNull();
    expect(batch.result.after.watermark).toBeGreaterThanOrEqual(start + 25 * MINUTE_MS);
    expect(batch.result.after.batchBuckets).toBeGreaterThan(25);
    expect(batch.result.flipped).toBe(batch.result.after.batchBuckets);
    expect(batch.result.before.batchBuckets + batch.result.before.speedBuckets).toBe(batch.result.after.batchBuckets + batch.result.after.speedBuckets);

    const late = await lab<LateArrivalsResult>(['late', '--count', '17']);
    expect(late.explanation).toContain('late_arrivals');
    expect(late.result.runId).toBe(batch.result.after.runId);
    expect(late.result.bucket).toBeLessThan(late.result.watermark);
    expect(late.result.lateAfter - late.result.lateBefore).toBe(17);
    expect(late.result.countDiffAfter - late.result.countDiffBefore).toBe(17);
    expect(late.result.unexplainedAfter).toBe(0);

    // Dedupe on (the default): the copies are skipped, only the originals count (as late arrivals).
    const dup = await lab<DuplicatesResult>(['duplicates', '--count', '11']);
    expect(dup.explanation).toContain('dedupe');
    expect(dup.result).toMatchObject({ dedupe: true, sent: 11, skipped: 11, applied: 0, lateAdded: 11, duplicatesAdded: 0, unexplainedAfter: 0 });
  });

  it('names what is wrong: an unknown experiment (exit 2), and batch-now without the admin token', async () => {
    const bad = await runCli(['lab', 'nope', '--url', app.url], cliEnv());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected one of late, duplicates, batch-now');
    const noToken = await runCli(['lab', 'batch-now', '--url', app.url], cliEnv());
    expect(noToken.code).not.toBe(0);
    expect(noToken.stderr).toContain('admin token');
  });
});
