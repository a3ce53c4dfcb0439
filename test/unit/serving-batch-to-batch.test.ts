/**
 * Batch-to-batch drift split honestly (issue 12), on two real runs (real catalog, real run
 * files): late events absorbed into buckets the previous run already served, apart from buckets
 * newly covered because W moved; each counted exactly, and buckets neither run serves left out.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import { driftAnswer } from '../../serving-layer/query/drift.js';
import { rangeQuery, resolveQuery } from '../../serving-layer/query/params.js';
import { batchToBatchText } from '../../serving-layer/dashboard/src/batch-to-batch.js';
import { DEFAULT_VIEWS_JSON, defaultViewSet } from '../../shared/views/default-views.js';
import { RunPublisher } from '../support/batch-runs.js';
import { fakeContext } from '../support/serving-fakes.js';

const views = defaultViewSet();
const view = views.byName.pageviews!;
const M = 60_000;
const H = 60 * M;
const T0 = Date.UTC(2024, 4, 1, 10, 0);
const NOW = T0 + 2 * H;

let n = 0;
function pageviews(at: number, count: number, url = '/a'): object[] {
  return Array.from({ length: count }, (_, i) => ({ id: `e${++n}`, ts: at + i, type: 'pageview', url, user: `u${n}` }));
}

describe('batch-to-batch drift', () => {
  let dir: string;
  let publisher: RunPublisher;
  let store: SqliteBatchViewStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'serving-b2b-'));
    publisher = new RunPublisher(dir, views, DEFAULT_VIEWS_JSON);
    store = new SqliteBatchViewStore(dir);
  });
  afterEach(() => {
    store.close();
    publisher.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Run A: W = 10:10. Run B: W = 10:20, with 2 late events for 10:00 (/a) and 1 for 10:05 (/b),
  // which run A already served; 10:12 (1 event in A, partial and never served; 4 in B) and 10:15
  // (3 in B) are newly covered; 10:25 (7 in B) is beyond both boundaries.
  const early = [...pageviews(T0, 3), ...pageviews(T0 + 5 * M, 2, '/b')];
  const late = [...pageviews(T0 + 30_000, 2), ...pageviews(T0 + 5 * M + 30_000, 1, '/b')];
  const runA = () => [...early, ...pageviews(T0 + 12 * M, 1)];
  const runB = (a: object[]) => [...a, ...late, ...pageviews(T0 + 12 * M + 1000, 3), ...pageviews(T0 + 15 * M, 3, '/c'), ...pageviews(T0 + 25 * M, 7)];

  const drift = async (granularity: 'minute' | 'hour', from = T0, to = T0 + 30 * M) =>
    (await driftAnswer(fakeContext(views, NOW, store), view, resolveQuery(view, rangeQuery.parse({ granularity, from: String(from), to: String(to) }), NOW)))
      .batchToBatch;

  it('splits late events absorbed into served buckets from buckets newly covered as W moved, each exactly', async () => {
    const a = runA();
    publisher.publish('run-a', T0 + 10 * M, a, 2);
    publisher.publish('run-b', T0 + 20 * M, runB(a), 2);
    const b2b = await drift('minute');
    expect(b2b).toMatchObject({
      previousRunId: 'run-a',
      latestRunId: 'run-b',
      watermarks: { previous: T0 + 10 * M, latest: T0 + 20 * M },
      boundaries: { previous: T0 + 10 * M, latest: T0 + 20 * M },
      lateEventsAbsorbed: 3,
      rowsChanged: 2,
      newlyCovered: { from: T0 + 10 * M, to: T0 + 20 * M, buckets: 10, bucketsWithEvents: 2, events: 7 },
    });
    // Only rows of buckets both runs served are listed as changes: not 10:12, 10:15 nor 10:25.
    expect((b2b.changes as { start: number }[]).map((c) => c.start)).toEqual([T0, T0 + 5 * M]);
    expect(b2b.changes).toContainEqual({
      start: T0,
      dims: { url: '/a' },
      measures: { views: { before: 3, after: 5, diff: 2, abs: 2, rel: 2 / 3 }, visitors: { before: 3, after: 5, diff: 2, abs: 2, rel: 2 / 3 } },
    });
    expect(b2b).not.toHaveProperty('eventsAbsorbed');
    expect(batchToBatchText(b2b)).toBe(
      'Batch to batch: between run run-a and run run-b, 3 late event(s) were absorbed into buckets the previous run already served (2 row(s) changed); ' +
        '10 bucket(s) newly covered (7 event(s)) as W moved from 2024-05-01 10:10:00 UTC to 2024-05-01 10:20:00 UTC.',
    );
  });

  it('counts only the buckets of the range asked for, at its granularity', async () => {
    const a = runA();
    publisher.publish('run-a', T0 + 10 * M, a, 2);
    publisher.publish('run-b', T0 + 20 * M, runB(a), 2);
    // From 10:13: the late events and the 10:12 bucket are outside the range.
    expect(await drift('minute', T0 + 13 * M)).toMatchObject({
      lateEventsAbsorbed: 0,
      rowsChanged: 0,
      newlyCovered: { buckets: 7, bucketsWithEvents: 1, events: 3 },
    });
    // By the hour both boundaries are 10:00: W moved inside the hour, no bucket is newly covered,
    // and no bucket was served by the previous run either.
    const hourly = await drift('hour', T0, T0 + H);
    expect(hourly).toMatchObject({ boundaries: { previous: T0, latest: T0 }, lateEventsAbsorbed: 0, rowsChanged: 0, newlyCovered: { buckets: 0, events: 0 } });
    expect(batchToBatchText(hourly)).toMatch(
      /0 late event\(s\) .*; no bucket newly covered: at this granularity W stayed in the bucket of 2024-05-01 10:00:00 UTC\.$/,
    );
  });

  it('a W that did not move covers nothing new, and the late events are still counted', async () => {
    publisher.publish('run-a', T0 + 10 * M, early, 2);
    publisher.publish('run-b', T0 + 10 * M, [...early, ...late], 2);
    const b2b = await drift('minute');
    expect(b2b).toMatchObject({ lateEventsAbsorbed: 3, rowsChanged: 2, newlyCovered: { buckets: 0, bucketsWithEvents: 0, events: 0 } });
    expect(batchToBatchText(b2b)).toMatch(/3 late event\(s\) were absorbed .*; no bucket newly covered: W stayed at 2024-05-01 10:10:00 UTC\.$/);
  });
});
