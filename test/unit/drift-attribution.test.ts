/**
 * Every count difference has a cause, counted exactly where the service can know it (issue 12):
 * the pure rule, then the drift report built on it from a run's snapshot and the speed layer's
 * late-class record, duplicates and unchecked copies (fakes of the project's own ports).
 */
import { describe, expect, it } from 'vitest';
import { attributeBucket, missingFromRunCause } from '../../shared/drift-attribution.js';
import { driftAnswer } from '../../serving-layer/query/drift.js';
import { seriesAnswer } from '../../serving-layer/query/series.js';
import { rangeQuery, resolveQuery } from '../../serving-layer/query/params.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import type { BucketRow } from '../../shared/ports.js';
import { FakeBatchStore, fakeContext, runInfo } from '../support/serving-fakes.js';

const views = defaultViewSet();
const M = 60_000;
const T0 = Date.UTC(2024, 4, 1, 10, 0);
const NOW = T0 + 60 * M;

describe('attributeBucket', () => {
  const run = { snapshotAt: 1000, publishedAt: 2000 };

  it('names a late-class event past the snapshot by when it arrived', () => {
    expect(missingFromRunCause(1000, run)).toBe('not_archived_at_snapshot');
    expect(missingFromRunCause(1001, run)).toBe('arrived_during_batch_run');
    expect(missingFromRunCause(2000, run)).toBe('arrived_during_batch_run');
    expect(missingFromRunCause(2001, run)).toBe('late_arrivals');
  });

  it('explains a difference made of known causes exactly, with nothing unexplained', () => {
    const causes = attributeBucket({
      countDiff: 9,
      missingFromRun: { not_archived_at_snapshot: 1, arrived_during_batch_run: 2, late_arrivals: 3 },
      duplicates: 3,
      unchecked: 0,
      speedBehindRecords: 0,
    });
    expect(causes).toEqual([
      { cause: 'not_archived_at_snapshot', events: 1, exact: true },
      { cause: 'arrived_during_batch_run', events: 2, exact: true },
      { cause: 'late_arrivals', events: 3, exact: true },
      { cause: 'duplicates', events: 3, exact: true },
    ]);
  });

  it('gives bounded causes only what is left, in the direction they can act, and names the rest unexplained', () => {
    expect(attributeBucket({ countDiff: 5, missingFromRun: { late_arrivals: 2 }, duplicates: 0, unchecked: 10, speedBehindRecords: 0 })).toEqual([
      { cause: 'late_arrivals', events: 2, exact: true },
      { cause: 'unchecked_copies', events: 3, exact: false },
    ]);
    expect(attributeBucket({ countDiff: -4, missingFromRun: {}, duplicates: 0, unchecked: 10, speedBehindRecords: 3 })).toEqual([
      { cause: 'speed_behind_run', events: -3, exact: false },
      { cause: 'unexplained', events: -1, exact: false },
    ]);
    expect(attributeBucket({ countDiff: 2, missingFromRun: { late_arrivals: 3 }, duplicates: 0, unchecked: 0, speedBehindRecords: 0 })).toEqual([
      { cause: 'late_arrivals', events: 3, exact: true },
      { cause: 'unexplained', events: -1, exact: false },
    ]);
    expect(attributeBucket({ countDiff: 0, missingFromRun: {}, duplicates: 0, unchecked: 4, speedBehindRecords: 4 })).toEqual([]);
  });
});

describe('drift report causes', () => {
  const row = (bucketStart: number, url: string, views_: number): BucketRow => ({
    view: 'pageviews',
    granularity: 'minute',
    bucketStart,
    dims: [url],
    values: { views: views_, visitors: views_ },
  });
  const q = () => resolveQuery(views.byName.pageviews!, rangeQuery.parse({ granularity: 'minute', from: String(T0), to: String(T0 + 10 * M) }), NOW);
  const snapshotAt = T0 + 20 * M;
  const publishedAt = T0 + 21 * M;

  function setUp() {
    const batch = new FakeBatchStore(views);
    const info = { ...runInfo('run-1', T0 + 10 * M), finishedAt: publishedAt, snapshot: { at: snapshotAt, through: { '0': 99, '1': 49 } } };
    batch.publish(info, [row(T0, '/a', 5), row(T0 + M, '/a', 2)]);
    const ctx = fakeContext(views, NOW, batch);
    ctx.speed.offsets = [
      { partition: 0, offset: 200 },
      { partition: 1, offset: 90 },
    ];
    return ctx;
  }

  it('counts each cause in each bucket exactly and reports nothing unexplained', async () => {
    const ctx = setUp();
    // Minute 0: batch 5, speed 5 + 1 (not archived at the snapshot) + 2 (arrived during the run) + 1 duplicate.
    // Minute 1: batch 2, speed 2 + 3 (arrived after publish, one on each partition and one at an
    // offset the run read: that one is in the batch too, so it is no cause).
    ctx.speed.rows = [
      { ...row(T0, '/a', 9), late: 0, duplicates: 1, unchecked: 0 },
      { ...row(T0 + M, '/a', 4), late: 0, duplicates: 0, unchecked: 0 },
      { ...row(T0 + M, '/b', 1), late: 0, duplicates: 0, unchecked: 0 },
    ];
    ctx.speed.lateClass = [
      { bucketStart: T0, dims: ['/a'], partition: 0, offset: 100, arrival: snapshotAt - 5 },
      { bucketStart: T0, dims: ['/a'], partition: 0, offset: 120, arrival: snapshotAt + 5 },
      { bucketStart: T0, dims: ['/a'], partition: 1, offset: 60, arrival: publishedAt },
      { bucketStart: T0 + M, dims: ['/a'], partition: 0, offset: 150, arrival: publishedAt + 1 },
      { bucketStart: T0 + M, dims: ['/a'], partition: 1, offset: 70, arrival: publishedAt + 9 },
      { bucketStart: T0 + M, dims: ['/b'], partition: 1, offset: 80, arrival: publishedAt + 9 },
      { bucketStart: T0 + M, dims: ['/a'], partition: 0, offset: 99, arrival: snapshotAt - 60_000 },
    ];
    const d = await driftAnswer(ctx, views.byName.pageviews!, q());
    const [b0, b1] = d.buckets;
    expect(b0).toMatchObject({ countDiff: 4, late: 3, duplicates: 1, unexplained: 0 });
    expect(b0?.causes.filter((c) => c.exact).map((c) => [c.cause, c.events])).toEqual([
      ['not_archived_at_snapshot', 1],
      ['arrived_during_batch_run', 2],
      ['duplicates', 1],
    ]);
    expect(b1).toMatchObject({ countDiff: 3, late: 3, unexplained: 0 });
    expect(b1?.causes.filter((c) => c.exact).map((c) => [c.cause, c.events])).toEqual([['late_arrivals', 3]]);
    expect(d.unexplainedEvents).toBe(0);
    expect(d).not.toHaveProperty('warning');
  });

  it('says loudly when a difference has no known cause', async () => {
    const ctx = setUp();
    ctx.speed.rows = [{ ...row(T0, '/a', 7), late: 0, duplicates: 0, unchecked: 0 }];
    const d = await driftAnswer(ctx, views.byName.pageviews!, q());
    expect(d.buckets[0]?.unexplained).toBe(2);
    // Minute 1: the batch run has 2, the speed layer nothing, and it is not behind the run: -2.
    expect(d.buckets[1]?.unexplained).toBe(-2);
    expect(d.unexplainedEvents).toBe(4);
    expect(d.warning).toMatch(/UNEXPLAINED DRIFT/);
  });

  it('names the buckets it could not compare, and why', async () => {
    const ctx = setUp();
    ctx.speed.coveredSince = T0 + 5 * M;
    const d = await driftAnswer(ctx, views.byName.pageviews!, q());
    expect(d.notCompared).toEqual([0, 1, 2, 3, 4].map((i) => ({ start: T0 + i * M, reason: 'speed_not_covered' })));
  });
});

describe('archive gaps (offsets Kafka deleted before the archiver read them)', () => {
  it('are named in the answer of every series the run serves', async () => {
    const batch = new FakeBatchStore(views);
    const gap = { topic: 'events', partition: 1, fromOffset: 10, toOffset: 19, detectedAt: T0 };
    batch.publish({ ...runInfo('run-g', T0 + 10 * M), completeness: { gaps: [gap] } }, []);
    const ctx = fakeContext(views, NOW, batch);
    const rq = resolveQuery(views.byName.pageviews!, rangeQuery.parse({ granularity: 'minute', from: String(T0), to: String(T0 + 10 * M) }), NOW);
    const a = await seriesAnswer(ctx, views.byName.pageviews!, rq);
    expect(a.answer.warnings).toContainEqual(
      expect.stringMatching(/run-g lacks 10 record\(s\) Kafka deleted before the archiver read them \(partition 1 offsets 10-19\)/),
    );
  });
});
