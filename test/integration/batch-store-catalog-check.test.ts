/**
 * How often a serving process looks at the batch catalog (issue 16, docs/design-decisions.md,
 * Batch layer): a run published by this process is seen by the very next call; one published by
 * another process (a real child process here) only once `catalogCheckMs` has passed since the
 * last look, and at once with a bound of 0.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import { DEFAULT_VIEWS_JSON, defaultViewSet } from '../../shared/views/default-views.js';
import { RunPublisher } from '../support/batch-runs.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const T0 = Date.UTC(2024, 4, 1, 10, 0);
const views = defaultViewSet();

function publishFromAnotherProcess(dir: string, runId: string, watermark: number, count: number): void {
  execFileSync(process.execPath, ['--import', 'tsx', 'test/support/publish-child.ts', dir, runId, String(watermark), String(count)], {
    cwd: ROOT,
    stdio: 'pipe',
  });
}

const pageviews = (store: SqliteBatchViewStore): number =>
  store.series({ view: 'pageviews', granularity: 'hour', from: T0 - 3_600_000, to: T0 + 3_600_000 }).reduce((n, r) => n + (r.values.views as number), 0);

describe('the batch catalog check bound', () => {
  let dir: string;
  let now: number;
  const stores: SqliteBatchViewStore[] = [];
  const open = (catalogCheckMs: number) => {
    const store = new SqliteBatchViewStore(dir, { catalogCheckMs, now: () => now });
    stores.push(store);
    return store;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'catalog-check-'));
    now = 1_000_000;
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sees a publish by this process at the next call, without the clock moving', () => {
    const store = open(50);
    expect(store.latestRun()).toBeNull();
    const publisher = new RunPublisher(dir, views, DEFAULT_VIEWS_JSON);
    try {
      publisher.publish('run-a', T0, [{ id: 'a1', ts: T0 - 60_000, type: 'pageview', url: '/a', user: 'u1' }], 2);
      expect(store.latestRun()?.runId).toBe('run-a');
      publisher.publish('run-b', T0 + 1, [{ id: 'b1', ts: T0 - 60_000, type: 'pageview', url: '/a', user: 'u1' }], 2);
      expect(store.snapshot().run?.runId).toBe('run-b');
    } finally {
      publisher.close();
    }
  });

  it("sees another process's publish once the bound has passed since its last look, and at once with 0", { timeout: 60_000 }, () => {
    const bounded = open(50);
    const eager = open(0);
    publishFromAnotherProcess(dir, 'run-a', T0, 3);
    now += 50;
    expect(bounded.latestRun()?.runId).toBe('run-a');
    expect(pageviews(bounded)).toBe(3);

    publishFromAnotherProcess(dir, 'run-b', T0 + 1, 5);
    // Looked 0 ms ago: still the old run, and its rows (one reader, no mix).
    expect(bounded.latestRun()?.runId).toBe('run-a');
    expect(pageviews(bounded)).toBe(3);
    expect(eager.latestRun()?.runId).toBe('run-b');
    now += 49;
    expect(bounded.latestRun()?.runId).toBe('run-a');
    now += 1;
    expect(bounded.latestRun()?.runId).toBe('run-b');
    expect(pageviews(bounded)).toBe(5);
  });
});
