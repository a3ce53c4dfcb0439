/**
 * The dashboard's Experiments panel (issue 20) in a real headless Chromium against the real
 * service: each experiment is run by a click, and the numbers the panel shows (its result's data
 * attributes and text) must equal what was injected: the buckets a batch run takes over, N late
 * arrivals attributed exactly, N copies skipped by the speed dedupe. The run-batch experiment is
 * refused without the admin token. Screenshot: test-results/lab-panel.png.
 */
import { describe, expect, it } from 'vitest';
import { floorTo, MINUTE_MS } from '../../shared/time.js';
import { ADMIN_TOKEN, archivedAll } from '../support/app-context.js';
import { panelSession, RESULTS_DIR } from '../support/panel-session.js';
import { labResult } from '../support/browser-page.js';

const s = panelSession({ LAMBDA_BATCH_CRON: '0 * * * *', LAMBDA_ALLOWED_LATENESS_MS: '0' }, { width: 1280, height: 1400 });

/** Clicks an experiment's button and waits for its result (the click sets it running at once). */
async function runExperiment(label: string) {
  await s.page.getByRole('button', { name: label }).click();
  return labResult(s.page);
}

describe('the Experiments panel', () => {
  it('runs each experiment from a click and shows the numbers the service attributes', async () => {
    const start = floorTo(Date.now(), 'minute') - 20 * MINUTE_MS;
    const lines = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({ id: `base-${i}`, ts: start + i * 6_000, type: 'pageview', url: `/p/${i % 3}`, user: `u${i % 40}` }),
    );
    expect((await s.app.post('/api/v1/events', lines.join('\n'))).status).toBe(202);
    await archivedAll(s.app);
    await s.page.goto(`${s.app.url}/?view=pageviews&granularity=minute&measure=views&buckets=60`);

    // Without the token the run is refused, and the panel says why.
    let r = await runExperiment('Run a batch now');
    expect(r.state).toBe('error');
    expect(r.text).toContain('admin token');
    expect(await s.page.locator('#lab-explanation').textContent()).toContain('watermark W');

    await s.page.locator('#lab-token').fill(ADMIN_TOKEN);
    r = await runExperiment('Run a batch now');
    expect(r.state, r.text).toBe('done');
    expect(Number(r.data.flipped)).toBeGreaterThan(15);
    expect(Number(r.data.flipped)).toBe(Number(r.data.batchBuckets)); // no run before: every batch bucket flipped

    await s.page.locator('#lab-count').fill('9');
    r = await runExperiment('Send late events');
    expect(r.state, r.text).toBe('done');
    expect(r.data).toMatchObject({ sent: '9', lateAdded: '9', unexplained: '0' });
    expect(r.text).toContain('(+9)');

    await s.page.locator('#lab-count').fill('7');
    r = await runExperiment('Send duplicates');
    expect(r.state, r.text).toBe('done');
    expect(r.data).toMatchObject({ sent: '7', skipped: '7', applied: '0', lateAdded: '7', duplicatesAdded: '0', unexplained: '0' });
    await s.page.locator('#lab').screenshot({ path: `${RESULTS_DIR}lab-panel.png` });
    // The refused run (no token: 401) is the only error the page met.
    expect(s.browser.errors).toEqual(['HTTP 401: POST /api/v1/batch/runs']);
  });
});
