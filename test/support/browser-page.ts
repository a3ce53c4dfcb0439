/**
 * Reads the dashboard page for assertions. The functions handed to page.evaluate run in the
 * browser (playwright serialises them); Node code is type-checked without DOM types, so they see
 * the page through the small structural declarations below, which vanish at run time.
 */
import type { Page } from 'playwright-core';

interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
}
declare const document: PageElement;
declare const window: Record<string, unknown>;
declare const MutationObserver: new (callback: () => void) => {
  observe(target: PageElement, options: { attributes: boolean; attributeFilter: string[] }): void;
};

export interface ShownCell {
  text: string | null;
  value: string | undefined;
}

export interface DashboardSnapshot {
  /** the merged series chart's data attributes (bucketCount, batchBuckets, from, to, watermark, total, ...) */
  chart: Record<string, string | undefined>;
  driftChart: Record<string, string | undefined>;
  series: { bucket: number; source: string | undefined; cells: Record<string, ShownCell> }[];
  drift: { bucket: number; dims: string | undefined; cells: Record<string, ShownCell> }[];
  /** late events absorbed between the two latest batch runs, as the page states it */
  eventsAbsorbed: string | undefined;
}

/** One consistent snapshot: everything read in one task, so all of it comes from the same refresh. */
export function readDashboard(page: Page): Promise<DashboardSnapshot> {
  return page.evaluate(() => {
    const cells = (tr: PageElement) =>
      Object.fromEntries([...tr.querySelectorAll('td[data-col]')].map((td) => [td.dataset.col ?? '', { text: td.textContent, value: td.dataset.value }]));
    const rows = (selector: string) => [...document.querySelectorAll(selector)];
    return {
      chart: { ...document.querySelector('#series-chart')?.dataset },
      driftChart: { ...document.querySelector('#drift-chart')?.dataset },
      series: rows('#series-table tbody tr').map((tr) => ({ bucket: Number(tr.dataset.bucket), source: tr.dataset.source, cells: cells(tr) })),
      drift: rows('#drift-table tbody tr').map((tr) => ({ bucket: Number(tr.dataset.bucket), dims: tr.dataset.dims, cells: cells(tr) })),
      eventsAbsorbed: document.querySelector('#batch-to-batch')?.dataset.eventsAbsorbed,
    };
  });
}

/** Waits until the merged chart's total (sum of the measure over its buckets) is `total`. */
export async function waitForChartTotal(page: Page, total: number, timeoutMs = 60_000): Promise<void> {
  await page.waitForFunction((want) => Number(document.querySelector('#series-chart')?.dataset.total) === want, total, { timeout: timeoutMs });
}

/** Starts recording every value the `data-state` attribute of `selector` takes. */
export async function recordStates(page: Page, selector: string): Promise<void> {
  await page.evaluate((sel) => {
    const target = document.querySelector(sel);
    if (!target) throw new Error(`no ${sel} on the page`);
    const seen: string[] = [];
    window.recordedStates = seen;
    new MutationObserver(() => seen.push(target.dataset.state ?? '')).observe(target, { attributes: true, attributeFilter: ['data-state'] });
  }, selector);
}

/** The recorded states, with repeats of the same state in a row collapsed. */
export async function recordedStates(page: Page): Promise<string[]> {
  const all = await page.evaluate(() => window.recordedStates as string[]);
  return all.filter((s, i) => s !== all[i - 1]);
}

/** The Experiments panel's result (issue 20) once it is done or failed: its state, data attributes and text. */
export async function labResult(page: Page, timeoutMs = 90_000): Promise<{ state: string; data: Record<string, string | undefined>; text: string }> {
  await page.waitForFunction(() => ['done', 'error'].includes(document.querySelector('#lab-result')?.dataset.state ?? ''), undefined, { timeout: timeoutMs });
  return page.evaluate(() => {
    const r = document.querySelector('#lab-result');
    return { state: r?.dataset.state ?? '', data: { ...r?.dataset }, text: r?.textContent ?? '' };
  });
}
