/**
 * The Experiments panel's runtime experiments (issue 20) in a real headless Chromium against the
 * real service, each run by a click, the numbers it shows checked against what was injected: the
 * speed dedupe switched at runtime (and the status panel saying so), the speed layer paused while
 * N events wait in Kafka (lag +N, nothing applied, then exactly N applied once), duplicates with
 * the dedupe off for one run (N copies attributed to `duplicates`), and invalid records of every
 * kind (counted by reason by the speed layer and the archiver, two dead letters each, the valid
 * ones counted, a batch run whose invalid counters do not move). Without the token the pause is
 * refused and nothing changes. Screenshot: test-results/lab-panel-runtime.png.
 */
import { describe, expect, it } from 'vitest';
import { floorTo, MINUTE_MS } from '../../shared/time.js';
import { INVALID_KINDS } from '../../lab/experiments/invalid.js';
import { ADMIN_TOKEN, archivedAll } from '../support/app-context.js';
import { panelSession, RESULTS_DIR } from '../support/panel-session.js';
import { labResult } from '../support/browser-page.js';

const s = panelSession({ LAMBDA_BATCH_CRON: '0 * * * *', LAMBDA_ALLOWED_LATENESS_MS: '0', LAMBDA_TOPIC_PARTITIONS: '2' }, { width: 1280, height: 1500 });

async function runExperiment(label: string) {
  await s.page.getByRole('button', { name: label }).click();
  return labResult(s.page);
}

/** Everything Kafka holds made durable by the archiver, so the next batch run includes it. */
describe('the Experiments panel: runtime experiments', () => {
  it('switches the dedupe, pauses the speed layer, sends duplicates with the dedupe off and invalid records, showing the injected numbers', async () => {
    const start = floorTo(Date.now(), 'minute') - 20 * MINUTE_MS;
    const lines = Array.from({ length: 100 }, (_, i) =>
      JSON.stringify({ id: `base-${i}`, ts: start + i * 12_000, type: 'pageview', url: `/p/${i % 3}`, user: `u${i % 20}` }),
    );
    expect((await s.app.post('/api/v1/events', lines.join('\n'))).status).toBe(202);
    await s.page.goto(`${s.app.url}/?view=pageviews&granularity=minute&measure=views&buckets=60`);

    // Without the token the pause is refused, and the panel says why.
    let r = await runExperiment('Pause the speed layer');
    expect(r.state).toBe('error');
    expect(r.text).toContain('admin token');
    expect(await s.page.locator('#lab-explanation').textContent()).toContain('lag');
    expect((await s.app.get('/api/v1/status')).body.speed.control.paused).toBe(false);

    await s.page.locator('#lab-token').fill(ADMIN_TOKEN);
    await s.page.locator('#lab-dedupe-setting').selectOption('off');
    r = await runExperiment('Switch the speed dedupe');
    expect(r.state, r.text).toBe('done');
    expect(r.data).toMatchObject({ setting: 'off', dedupe: 'false', dedupeFrom: 'admin', partitions: '2' });
    await expect.poll(() => s.page.locator('[data-status="speed-dedupe"]').textContent(), { timeout: 15_000 }).toContain('off, switched by an admin');
    await s.page.locator('#lab-dedupe-setting').selectOption('default');
    r = await runExperiment('Switch the speed dedupe');
    expect(r.data).toMatchObject({ setting: 'default', dedupe: 'true', dedupeFrom: 'LAMBDA_SPEED_DEDUPE' });

    await s.page.locator('#lab-count').fill('30');
    r = await runExperiment('Pause the speed layer');
    expect(r.state, r.text).toBe('done');
    expect(r.data).toMatchObject({ sent: '30', lagAdded: '30', appliedWhilePaused: '0', appliedAfterResume: '30', counted: '30', duplicatesApplied: '0' });
    expect(r.text).toContain('(+30)');

    await archivedAll(s.app);
    r = await runExperiment('Run a batch now');
    expect(r.state, r.text).toBe('done');

    await s.page.locator('#lab-count').fill('6');
    await s.page.locator('#lab-dedupe').selectOption('off');
    r = await runExperiment('Send duplicates');
    expect(r.state, r.text).toBe('done');
    expect(r.data).toMatchObject({
      sent: '6',
      dedupe: 'false',
      skipped: '0',
      applied: '6',
      lateAdded: '6',
      duplicatesAdded: '6',
      unexplained: '0',
      switchedTo: 'false',
    });
    expect(await s.page.locator('#lab-explanation').textContent()).toContain('switched back');
    expect((await s.app.get('/api/v1/status')).body.speed.dedupe).toEqual({ effective: true, from: 'LAMBDA_SPEED_DEDUPE' });
    // The copies on the other partition than their originals, dedupe still off for the run: applied, each attributed.
    await s.page.locator('#lab-copies').selectOption('other-partition');
    r = await runExperiment('Send duplicates');
    expect(r.state, r.text).toBe('done');
    expect(r.data).toMatchObject({
      sent: '6',
      copies: 'other-partition',
      dedupe: 'false',
      skipped: '0',
      applied: '6',
      lateAdded: '6',
      duplicatesAdded: '6',
      unexplained: '0',
    });
    expect(await s.page.locator('#lab-explanation').textContent()).toContain('another partition');
    await s.page.locator('#lab-copies').selectOption('same-partition');
    await s.page.locator('#lab-dedupe').selectOption('');

    // The duplicates in a run first, so the next run's kept events grow by the valid records alone.
    await archivedAll(s.app);
    r = await runExperiment('Run a batch now');
    expect(r.state, r.text).toBe('done');
    await s.page.locator('#lab-count').fill('2');
    await s.page.locator('#lab-then-batch').check();
    r = await runExperiment('Send invalid records');
    expect(r.state, r.text).toBe('done');
    const each = Object.fromEntries(INVALID_KINDS.map((k) => [k, 2]));
    expect(JSON.parse(r.data.sentInvalid!)).toEqual(each);
    expect(JSON.parse(r.data.speedInvalid!)).toEqual(each);
    expect(JSON.parse(r.data.archiverInvalid!)).toEqual(each);
    expect(JSON.parse(r.data.batchInvalidAdded!)).toEqual({});
    expect(r.data).toMatchObject({ sentValid: '2', validCounted: '2', deadLettersAdded: String(2 * 2 * INVALID_KINDS.length), eventsKeptAdded: '2' });
    expect(r.text).toContain('Speed layer, invalid by reason: not_json 2');
    await s.page.locator('#lab').screenshot({ path: `${RESULTS_DIR}lab-panel-runtime.png` });
    // The refused pause (no token: 401) is the only error the page met.
    expect(s.browser.errors).toEqual(['HTTP 401: PUT /api/v1/admin/speed/pause']);
  });
});
