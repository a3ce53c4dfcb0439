/**
 * One answer reads one batch run (issue 12, hole 8), on a real catalog and real run files: a run
 * published (and an older one pruned, its file deleted) between the answer's W read and its row
 * reads changes nothing the answer says.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import { seriesAnswer } from '../../serving-layer/query/series.js';
import { totalsAnswer } from '../../serving-layer/query/totals.js';
import { driftAnswer } from '../../serving-layer/query/drift.js';
import { rangeQuery, resolveQuery } from '../../serving-layer/query/params.js';
import { DEFAULT_VIEWS_JSON, defaultViewSet } from '../../shared/views/default-views.js';
import { afterFirstRead, RunPublisher } from '../support/batch-runs.js';
import { fakeContext } from '../support/serving-fakes.js';

const views = defaultViewSet();
const view = views.byName.pageviews!;
const M = 60_000;
const T0 = Date.UTC(2024, 4, 1, 10, 0);
const NOW = T0 + 60 * M;

let n = 0;
/** `count` pageviews of `url` in the minute starting at `at`. */
function pageviews(at: number, count: number, url = '/a'): object[] {
  return Array.from({ length: count }, (_, i) => ({ id: `e${++n}`, ts: at + i, type: 'pageview', url, user: `u${i}` }));
}

describe('one answer, one batch run', () => {
  let dir: string;
  let publisher: RunPublisher;
  let store: SqliteBatchViewStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'serving-pin-'));
    publisher = new RunPublisher(dir, views, DEFAULT_VIEWS_JSON);
    store = new SqliteBatchViewStore(dir);
  });
  afterEach(() => {
    store.close();
    publisher.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const q = (extra: Record<string, string> = {}) =>
    resolveQuery(view, rangeQuery.parse({ granularity: 'minute', from: String(T0), to: String(T0 + 30 * M), groupBy: '', ...extra }), NOW);

  it('series and totals: W, the boundary and every batch row come from the run published when the answer began', async () => {
    publisher.publish('run-1', T0 + 10 * M, pageviews(T0, 3), 1);
    // run-2 (W 20 min, 5 events in the first minute) is published, and run-1 pruned and its file
    // deleted, right after the series answer read W from run-1.
    let ctx = fakeContext(
      views,
      NOW,
      afterFirstRead(store, () => expect(publisher.publish('run-2', T0 + 20 * M, pageviews(T0, 5), 1)).toEqual(['run-1'])),
    );
    const series = (await seriesAnswer(ctx, view, q())).answer;
    expect(series.batch).toMatchObject({ runId: 'run-1', watermark: T0 + 10 * M, boundary: T0 + 10 * M });
    expect(series.buckets[0]).toMatchObject({ start: T0, source: 'batch', groups: [{ values: { views: 3 } }] });
    expect(series.buckets.filter((b) => b.source === 'batch')).toHaveLength(10);
    expect(series.provenance).toContain('batch run run-1');
    expect(store.runs().map((r) => r.runId)).toEqual(['run-2']);

    // The same for totals: run-3 arrives after the answer read W from run-2.
    ctx = fakeContext(
      views,
      NOW,
      afterFirstRead(store, () => publisher.publish('run-3', T0 + 25 * M, pageviews(T0, 8), 1)),
    );
    const totals = (await totalsAnswer(ctx, view, q())).answer;
    expect(totals.batch).toMatchObject({ runId: 'run-2', boundary: T0 + 20 * M });
    expect(totals.sources.batchBuckets).toBe(20);
    expect(totals.totals[0]?.values.views).toBe(5);

    // The next answer sees the new run.
    const next = (await seriesAnswer(fakeContext(views, NOW, store), view, q())).answer;
    expect(next.batch?.runId).toBe('run-3');
    expect(next.buckets[0]?.groups[0]?.values.views).toBe(8);
  });

  it('drift: both comparisons read the runs of the answer, and a previous run pruned mid-answer is still read from its held file', async () => {
    publisher.publish('run-a', T0 + 10 * M, pageviews(T0, 3), 2);
    publisher.publish('run-b', T0 + 20 * M, pageviews(T0, 4), 2);
    const ctx = fakeContext(
      views,
      NOW,
      afterFirstRead(store, () => expect(publisher.publish('run-c', T0 + 25 * M, pageviews(T0, 9), 2)).toEqual(['run-a'])),
    );
    ctx.speed.rows = [
      { view: 'pageviews', granularity: 'minute', bucketStart: T0, dims: ['/a'], values: { views: 4, visitors: 4 }, late: 0, duplicates: 0, unchecked: 0 },
    ];
    const d = await driftAnswer(ctx, view, q());
    expect(d.batch?.runId).toBe('run-b');
    expect(d.batch?.boundary).toBe(T0 + 20 * M);
    expect(d.bucketsCompared).toBe(20);
    expect(d.buckets[0]).toMatchObject({ start: T0, rows: [{ measures: { views: { batch: 4, speed: 4, diff: 0 } } }] });
    expect(d.batchToBatch).toMatchObject({ previousRunId: 'run-a', latestRunId: 'run-b', lateEventsAbsorbed: 1 });
  });

  it('drift: through a store that cannot hold runs, a previous run pruned mid-answer makes the comparison unavailable, with the reason, not the answer fail', async () => {
    publisher.publish('run-a', T0 + 10 * M, pageviews(T0, 3), 2);
    publisher.publish('run-b', T0 + 20 * M, pageviews(T0, 4), 2);
    const ctx = fakeContext(
      views,
      NOW,
      afterFirstRead(store, () => publisher.publish('run-c', T0 + 25 * M, pageviews(T0, 9), 2), { withSnapshot: false }),
    );
    const d = await driftAnswer(ctx, view, q());
    expect(d.batch?.runId).toBe('run-b');
    expect(d.buckets[0]).toMatchObject({ start: T0, rows: [{ measures: { views: { batch: 4 } } }] });
    expect(d.batchToBatch).toMatchObject({
      previousRunId: 'run-a',
      latestRunId: 'run-b',
      unavailable: expect.stringMatching(/run "run-a" was pruned .* while this answer was being built/),
    });
  });

  it('a released snapshot lets the store close the pruned run; the published run stays open for the next answer', () => {
    publisher.publish('run-a', T0 + 10 * M, pageviews(T0, 3), 1);
    const snap = store.snapshot({ hold: 1 });
    publisher.publish('run-b', T0 + 20 * M, pageviews(T0, 4), 1);
    const range = { view: 'pageviews', granularity: 'minute' as const, from: T0, to: T0 + M };
    expect(store.series(range)[0]?.values.views).toBe(4); // refreshes: run-a is no longer kept
    expect(snap.series(range)[0]?.values.views).toBe(3); // ...but this answer still reads it
    snap.release();
    snap.release(); // idempotent
    expect(() => snap.series(range)).toThrow(/after release/);
    const again = store.snapshot();
    expect(again.run?.runId).toBe('run-b');
    expect(again.series(range)[0]?.values.views).toBe(4);
    again.release();
    expect(store.series(range)[0]?.values.views).toBe(4);
  });
});
