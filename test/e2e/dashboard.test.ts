/**
 * The dashboard in a real headless Chromium against the real service (Kafka, Redis, files): a
 * stream with duplicates goes in over HTTP, a batch run publishes a watermark, late and fresh
 * events follow. The page must show the merged series with the right number of buckets and each
 * bucket's source, the watermark line at the watermark's time, a drift table equal to the drift
 * API, refresh on its own, and run a batch from its dialog (token refused, then accepted) with
 * the run id and watermark moving on the page; for a distinct measure, the unique count over the
 * range, labelled approximate as the totals API says (issue 16). Screenshots go to test-results/.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { clickstream, type GeneratedRecord } from '../../shared/generator/clickstream.js';
import { floorTo, MINUTE_MS } from '../../shared/time.js';
import { batchWatermarkKey } from '../../adapters/redis/keys.js';
import { startApp, ADMIN_TOKEN, type AppContext } from '../support/app-context.js';
import { openBrowser, type BrowserSession } from '../support/browser.js';
import { readDashboard, recordStates, recordedStates, waitForChartTotal } from '../support/browser-page.js';
import { readMaster } from '../support/master-read.js';
import { waitUntil } from '../support/wait.js';

let app: AppContext;
let session: BrowserSession;
let page: Page;
const BUCKETS = 60;
const now = Date.now();
const start = floorTo(now - 35 * MINUTE_MS, 'minute');
const resultsDir = fileURLToPath(new URL('../../test-results/', import.meta.url));

// 600 records over 33 minutes of event time up to 2 minutes ago, 5% duplicates (speed dedupe is
// off: visible drift). With 5 minutes of allowed lateness the newest minutes stay with the speed layer.
const gen = clickstream({ seed: 11, startTs: start, rate: 600 / (33 * 60), duplicateFraction: 0.05, invalidFraction: 0.01, purchaseFraction: 0.15, urls: 12 });
const wave1: GeneratedRecord[] = Array.from({ length: 600 }, () => gen.next().value as GeneratedRecord);
// After the first run: late pageviews into buckets the batch already covers.
const late = Array.from({ length: 24 }, (_, i) =>
  JSON.stringify({ id: `late-${i}`, ts: start + i * 45_000, type: 'pageview', user: `lu${i}`, url: `/late/${i % 2}` }),
);
let sent = 0;

const pageviews = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ id: `${tag}-${i}`, ts: Date.now(), type: 'pageview', user: `${tag}u${i}`, url: '/fresh' }));

async function send(lines: readonly string[]): Promise<number> {
  let accepted = 0;
  for (let i = 0; i < lines.length; i += 300) {
    const r = await app.post('/api/v1/events', lines.slice(i, i + 300).join('\n'));
    expect(r.status).toBe(202);
    accepted += r.body.accepted;
  }
  sent += accepted;
  return accepted;
}

/** The speed layer applied everything sent, and the archiver made it durable in the master dataset. */
async function layersCaughtUp(): Promise<void> {
  await waitUntil(
    async () => (await app.get('/api/v1/status')).body.speed.partitions.reduce((s: number, p: { offset: number }) => s + p.offset, 0),
    (n) => n === sent,
    { what: `speed layer applied ${sent} records`, timeoutMs: 60_000 },
  );
  await waitUntil(
    () => readMaster(app.master),
    (m) => m.total === sent,
    { what: `archiver wrote ${sent} records`, timeoutMs: 60_000 },
  );
}

async function runBatchViaApi(): Promise<string> {
  const r = await app.post('/api/v1/batch/runs', '', { authorization: `Bearer ${ADMIN_TOKEN}` });
  expect(r.status).toBe(202);
  const runs = await waitUntil(
    () => app.get('/api/v1/batch/runs'),
    (x) => x.body.running === null && x.body.runs.length === 1,
    { what: 'first batch run published', timeoutMs: 60_000 },
  );
  const redis = new Redis(app.config.redis.url);
  await waitUntil(
    () => redis.get(batchWatermarkKey(app.config.redis.keyPrefix)),
    (w) => w !== null,
    { what: 'watermark published to Redis' },
  );
  redis.disconnect();
  return runs.body.runs[0].runId;
}

const attr = (selector: string, name: string) => page.locator(selector).getAttribute(name);

beforeAll(async () => {
  // Hourly batch period: minute buckets stay in Redis for 2 h, so drift can compare them.
  [app, session] = await Promise.all([
    startApp({ LAMBDA_BATCH_CRON: '0 * * * *', LAMBDA_SPEED_DEDUPE: 'false', LAMBDA_ALLOWED_LATENESS_MS: String(5 * MINUTE_MS) }),
    openBrowser({ width: 1280, height: 900 }),
  ]);
  page = session.page;
  mkdirSync(resultsDir, { recursive: true });
}, 120_000);
afterAll(async () => {
  await session?.close();
  await app?.stop();
});

describe('dashboard', () => {
  it('shows the merged series, the watermark and the drift, refreshes itself, and runs a batch from its dialog', async () => {
    await send(wave1.map((r) => r.value));
    await layersCaughtUp();
    const run1 = await runBatchViaApi();
    await send(late);
    await send(pageviews(10, 'fresh'));
    await layersCaughtUp();

    // 1. The merged series: 60 minute buckets, each with its source, equal to the series API.
    await page.goto(`${app.url}/?view=pageviews&granularity=minute&measure=views&buckets=${BUCKETS}&refresh=2`);
    await page.locator(`#series-chart[data-state="ready"][data-run-id="${run1}"]`).waitFor();
    expect(await page.locator('#series-chart canvas').count()).toBeGreaterThan(0);
    // A count is shown: no "unique over the range" figure (that is for distinct measures).
    expect(await page.locator('#unique-figure').isHidden()).toBe(true);
    const snap = await readDashboard(page);
    expect(snap.chart.bucketCount).toBe(String(BUCKETS));
    const q = `granularity=minute&from=${snap.chart.from}&to=${snap.chart.to}`;
    const series = (await app.get(`/api/v1/views/pageviews/series?${q}&groupBy=`)).body;
    expect(series.buckets).toHaveLength(BUCKETS);
    const apiSources = series.buckets.map((b: { source: string }) => b.source);
    expect(snap.chart.batchBuckets).toBe(String(apiSources.filter((s: string) => s === 'batch').length));
    expect(snap.chart.speedBuckets).toBe(String(apiSources.filter((s: string) => s === 'speed').length));
    expect(Number(snap.chart.batchBuckets)).toBeGreaterThan(20);
    expect(Number(snap.chart.speedBuckets)).toBeGreaterThan(0);
    expect(snap.series.map((r) => r.source)).toEqual(apiSources);
    series.buckets.forEach((b: { start: number; groups: { values: { views: number } }[] }, i: number) => {
      expect(snap.series[i]!.bucket).toBe(b.start);
      expect(snap.series[i]!.cells.value!.value).toBe(String(b.groups[0]?.values.views ?? 0));
    });

    // 2. The watermark line: the API's watermark, drawn at its time on the chart's x axis.
    expect(snap.chart.watermark).toBe(String(series.batch.watermark));
    const line = page.locator('#series-chart .watermark-line');
    await line.waitFor();
    expect(await line.getAttribute('data-watermark')).toBe(String(series.batch.watermark));
    const plot = (await page.locator('#series-chart .u-over').boundingBox())!;
    const drawn = (await line.boundingBox())!;
    const from = Number(snap.chart.from);
    const to = Number(snap.chart.to);
    const expectedX = plot.x + ((series.batch.watermark - from) / (to - from)) * plot.width;
    expect(Math.abs(drawn.x + drawn.width / 2 - expectedX)).toBeLessThanOrEqual(2.5);
    expect(await line.textContent()).toContain(new Date(series.batch.watermark).toISOString().slice(11, 16));

    // 3. The drift table: every differing row of the drift API, with the same numbers.
    const drift = (await app.get(`/api/v1/views/pageviews/drift?${q}`)).body;
    expect(snap.driftChart.bucketsCompared).toBe(String(drift.bucketsCompared));
    type Row = { dims: Record<string, string | null>; measures: { views: { batch: number; speed: number; diff: number; abs: number } } };
    const differing = (drift.buckets as { start: number; rows: Row[] }[]).flatMap((b) =>
      b.rows.filter((r) => r.measures.views.abs !== 0).map((r) => ({ start: b.start, ...r })),
    );
    expect(differing.length).toBeGreaterThan(0);
    expect(snap.drift).toHaveLength(differing.length);
    for (const want of differing) {
      const shown = snap.drift.find((r) => r.bucket === want.start && r.dims === JSON.stringify(want.dims));
      expect(shown, `drift row ${want.start} ${JSON.stringify(want.dims)}`).toBeDefined();
      const m = want.measures.views;
      expect(shown!.cells.batch).toEqual({ value: String(m.batch), text: String(m.batch) });
      expect(shown!.cells.speed).toEqual({ value: String(m.speed), text: String(m.speed) });
      expect(shown!.cells.diff).toEqual({ value: String(m.diff), text: m.diff > 0 ? `+${m.diff}` : String(m.diff) });
    }
    const lateRow = snap.drift.find((r) => JSON.parse(r.dims!).url === '/late/0');
    expect(lateRow?.cells.causes?.text).toMatch(/late, arrived after the run: \d+/);
    // The warnings concern the measure shown (views, a count), never the rolled-up distinct visitors.
    expect(await page.locator('#status .warnings').textContent()).not.toMatch(/visitors/);

    // 4. Live: new events appear without any interaction.
    const before = Number(snap.chart.total);
    await send(pageviews(15, 'live'));
    await waitForChartTotal(page, before + 15);

    // 5. The screenshot for the README, with a tooltip naming a bucket's source.
    await page.locator('#series-chart').focus();
    await page.keyboard.press('End');
    await expect.poll(() => page.locator('#series-chart .chart-readout').textContent()).toMatch(/source: speed layer/);
    await page.keyboard.press('Home');
    await expect.poll(() => page.locator('#series-chart .chart-readout').textContent()).toContain(`source: batch run ${run1}`);
    // Rest the tooltip on a batch bucket a few minutes into the data.
    const firstWithData = (await readDashboard(page)).series.findIndex((r) => Number(r.cells.value?.value) > 0);
    for (let i = 0; i < firstWithData + 3; i++) await page.keyboard.press('ArrowRight');
    // README's picture: `npm run docs:screenshot` copies it to docs/ (a test run never edits the repo).
    await page.screenshot({ path: `${resultsDir}dashboard-readme.png` });
    await page.screenshot({ path: `${resultsDir}dashboard.png`, fullPage: true });

    // 6. Run batch now: a wrong token is refused; the right one runs, shows progress and the new run.
    await layersCaughtUp();
    await recordStates(page, '#batch-dialog');
    await page.getByRole('button', { name: 'Run batch now…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Run the batch layer now' });
    await dialog.waitFor();
    await dialog.getByLabel('Admin token').fill('not-the-token');
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await page.locator('#batch-dialog[data-state="error"]').waitFor();
    expect(await page.locator('#batch-error').textContent()).toMatch(/token was refused/);
    await dialog.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await page.locator('#batch-dialog[data-state="done"]').waitFor({ timeout: 60_000 });
    const runs = (await app.get('/api/v1/batch/runs')).body.runs as { runId: string; watermark: number }[];
    const run2 = runs[0]!;
    expect(run2.runId).not.toBe(run1);
    expect(await attr('#batch-dialog', 'data-run-id')).toBe(run2.runId);
    expect(await page.locator('#batch-run-text').textContent()).toMatch(new RegExp(`Run ${run2.runId} published.*watermark (moved from|stayed at)`));
    await page.screenshot({ path: `${resultsDir}dashboard-batch-dialog.png` });
    const states = await recordedStates(page);
    expect(states.slice(states.lastIndexOf('error') + 1)).toEqual(['starting', 'running', 'done']);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.locator(`#series-chart[data-run-id="${run2.runId}"]`).waitFor();
    expect(Number(await attr('#series-chart', 'data-watermark'))).toBe(run2.watermark);
    expect(run2.watermark).toBeGreaterThanOrEqual(series.batch.watermark);
    await expect.poll(() => page.locator('[data-status="run-id"]').textContent()).toBe(run2.runId);

    // The second run absorbed the late events: batch-to-batch drift says how many, as the API does
    // for the range the page shows (which moves on with the clock).
    await expect
      .poll(async () => {
        const shown = await readDashboard(page);
        const d = (await app.get(`/api/v1/views/pageviews/drift?granularity=minute&from=${shown.chart.from}&to=${shown.chart.to}`)).body;
        return d.batchToBatch.lateEventsAbsorbed >= late.length && shown.eventsAbsorbed === String(d.batchToBatch.lateEventsAbsorbed);
      })
      .toBe(true);
    // ...kept apart from the buckets newly covered because W moved.
    expect(await page.locator('#batch-to-batch').textContent()).toMatch(
      new RegExp(
        `between run ${run1} and run ${run2.runId}, \\d+ late event\\(s\\) were absorbed into buckets the previous run already served \\(\\d+ row\\(s\\) changed\\); (\\d+ bucket\\(s\\) newly covered \\(\\d+ event\\(s\\)\\) as W moved from|no bucket newly covered)`,
      ),
    );

    // 7. The value picker filters the chart to one URL, as the API's filter does.
    const value = page.getByLabel('Value', { exact: true });
    await expect.poll(() => value.locator('option').count()).toBeGreaterThan(2);
    await value.selectOption({ label: '/late/0' });
    await page.waitForURL(/filter=url%3A%2Flate%2F0/);
    const range = (await readDashboard(page)).chart;
    const filtered = (await app.get(`/api/v1/views/pageviews/series?granularity=minute&from=${range.from}&to=${range.to}&groupBy=&filter=url:/late/0`)).body;
    const want = filtered.buckets.reduce((s: number, b: { groups: { values: { views: number } }[] }) => s + (b.groups[0]?.values.views ?? 0), 0);
    expect(want).toBe(late.length / 2);
    await waitForChartTotal(page, want);

    // 8. A distinct measure (issue 16): the unique visitors over the whole range the chart shows,
    // the totals API's union of the batch run's sketches and the speed layer's HLLs, labelled.
    await page.getByLabel('Measure', { exact: true }).selectOption('visitors');
    await page.waitForURL(/measure=visitors/);
    const figure = page.locator('#unique-figure[data-exactness]');
    await figure.waitFor();
    const shownRange = (await readDashboard(page)).chart;
    const uniques = (
      await app.get(
        `/api/v1/views/pageviews/totals?granularity=minute&from=${shownRange.from}&to=${shownRange.to}&groupBy=&filter=url:/late/0&measures=visitors`,
      )
    ).body;
    expect(uniques.approximate).toEqual(['visitors']);
    expect(uniques.sources.batchBuckets).toBeGreaterThan(0);
    // 12 late visitors of /late/0, each in its own minute: a union of 12 sketches, not a guess.
    expect(uniques.totals[0].values.visitors).toBe(late.length / 2);
    await expect.poll(() => figure.getAttribute('data-value')).toBe(String(late.length / 2));
    expect(await figure.getAttribute('data-exactness')).toBe('approximate');
    expect(await figure.textContent()).toMatch(/Unique visitors over the range .*≈ 12 approximate.*standard error 0\.81%.*batch bucket\(s\) of run/);
    await page.screenshot({ path: `${resultsDir}dashboard-uniques.png` });

    // The deliberate wrong token was the one refused request; nothing else may have gone wrong.
    expect(session.errors).toEqual(['HTTP 403: POST /api/v1/batch/runs']);
  });
});
