/**
 * "Lambda vs Kappa" in the dashboard's Experiments panel (issue 20), in a real headless Chromium
 * against the real service: the button replays the log through the speed layer and the panel shows
 * Kappa's answer beside the batch run's for the view and granularity picked. First the whole
 * topic is retained: every minute bucket equal. Then records of partition 0 are deleted from the
 * topic: the panel names exactly the minutes of those records not rebuildable. Refused without
 * the admin token. Screenshot (the README's, docs/kappa-panel.png): test-results/kappa-panel.png.
 */
import { describe, expect, it } from 'vitest';
import { floorTo, MINUTE_MS } from '../../shared/time.js';
import { readWholeTopic, testKafka } from '../support/archiver-kafka.js';
import { ADMIN_TOKEN, archivedAll } from '../support/app-context.js';
import { panelSession, RESULTS_DIR } from '../support/panel-session.js';
import { waitUntil } from '../support/wait.js';

// The page as the functions handed to page.evaluate see it (Node code is type-checked without DOM types).
interface PageNode {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
}
declare const document: { querySelector(selector: string): PageNode | null; querySelectorAll(selector: string): ArrayLike<PageNode> & Iterable<PageNode> };

const s = panelSession({ LAMBDA_BATCH_CRON: '0 * * * *', LAMBDA_ALLOWED_LATENESS_MS: '0' }, { width: 1280, height: 1600 });

interface Shown {
  state: string;
  data: Record<string, string | undefined>;
  text: string;
  rows: { bucket: number; status: string }[];
}

/** Clicks the button and waits for the panel's result. */
async function rebuild(): Promise<Shown> {
  await s.page.getByRole('button', { name: 'Rebuild with Kappa' }).click();
  await s.page.waitForFunction(() => ['done', 'error'].includes(document.querySelector('#kappa-result')?.dataset.state ?? ''), undefined, { timeout: 120_000 });
  return s.page.evaluate(() => {
    const r = document.querySelector('#kappa-result');
    const rows = [...document.querySelectorAll('#kappa-table tbody tr')].map((tr) => ({ bucket: Number(tr.dataset.bucket), status: tr.dataset.status ?? '' }));
    return { state: r?.dataset.state ?? '', data: { ...r?.dataset }, text: r?.textContent ?? '', rows };
  });
}

describe('Lambda vs Kappa in the Experiments panel', () => {
  it('shows Kappa equal to the batch run, then names the minutes whose records the log lost', async () => {
    const start = floorTo(Date.now(), 'minute') - 40 * MINUTE_MS;
    const lines = Array.from({ length: 120 }, (_, i) =>
      JSON.stringify({ id: `kp-${i}`, ts: start + i * 15_000, type: 'pageview', url: `/p/${i % 3}`, user: `u${i % 9}` }),
    );
    expect((await s.app.post('/api/v1/events', lines.join('\n'))).status).toBe(202);
    const kafka = testKafka(s.app.config.kafka.brokers);
    await archivedAll(s.app);
    expect((await s.app.post('/api/v1/batch/runs', '', { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(202);
    await waitUntil(
      () => s.app.get('/api/v1/batch/runs'),
      (r) => r.body.running === null && r.body.runs.length === 1,
      { what: 'the batch run', timeoutMs: 90_000 },
    );
    const minutes = new Set(Array.from({ length: 120 }, (_, i) => floorTo(start + i * 15_000, 'minute')));
    await s.page.goto(`${s.app.url}/?view=pageviews&granularity=minute&measure=views&buckets=60`);

    let r = await rebuild();
    expect(r.state).toBe('error');
    expect(r.text).toContain('admin token');

    await s.page.locator('#lab-token').fill(ADMIN_TOKEN);
    r = await rebuild();
    expect(r.state, r.text).toBe('done');
    expect(r.data).toMatchObject({ equal: String(minutes.size), notRebuildable: '0', different: '0', newerInLog: '0', records: '120', lostEvents: '0' });
    expect(r.rows.map((x) => x.bucket).sort()).toEqual([...minutes].sort());
    expect(Number(r.data.batchMs)).toBeGreaterThan(0);

    // Delete the first half of partition 0 from the topic: Kappa can no longer see those events.
    const p0 = (await readWholeTopic(kafka, s.app.config.kafka.topic)).filter((x) => x.partition === 0);
    const cut = Math.floor(p0.length / 2);
    expect(cut).toBeGreaterThan(5);
    const lostMinutes = new Set(p0.slice(0, cut).map((x) => floorTo((JSON.parse(x.value ?? '{}') as { ts: number }).ts, 'minute')));
    const admin = kafka.admin();
    await admin.connect();
    // kafkajs deletes only on a topic whose metadata it loaded.
    await admin
      .fetchTopicMetadata({ topics: [s.app.config.kafka.topic] })
      .then(() => admin.deleteTopicRecords({ topic: s.app.config.kafka.topic, partitions: [{ partition: 0, offset: String(cut) }] }))
      .finally(() => admin.disconnect());

    r = await rebuild();
    expect(r.state, r.text).toBe('done');
    expect(r.data).toMatchObject({
      notRebuildable: String(lostMinutes.size),
      equal: String(minutes.size - lostMinutes.size),
      different: '0',
      lostEvents: String(cut),
      records: String(120 - cut),
    });
    expect(
      r.rows
        .filter((x) => x.status === 'not_rebuildable')
        .map((x) => x.bucket)
        .sort(),
    ).toEqual([...lostMinutes].sort());
    expect(r.text).toContain(`partition 0 starts at offset ${cut}`);
    await s.page.locator('#lab').screenshot({ path: `${RESULTS_DIR}kappa-panel.png` });
    // The refused rebuild (no token: 401) is the only error the page met.
    expect(s.browser.errors).toEqual(['HTTP 401: POST /api/v1/kappa/rebuilds']);
  }, 300_000);
});
