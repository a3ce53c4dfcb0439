/**
 * avg, the measure kind added to the measure table alone (docs/design-decisions.md, "Measure
 * algebra"): two cells, sum(field) and count(field), finalized sum / count. Every layer gives the
 * reference fold's answer: the duckdb and reference batch engines (identical run files), the speed
 * layer in Redis, and the serving layer's series and totals merging the two at W, rolled up.
 */
import { closeServingFixture } from '../support/serving-fixture.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { LocalMasterDataset } from '../../adapters/master/index.js';
import { DuckDbBatchEngine } from '../../adapters/duckdb/duckdb-engine.js';
import { RunFileReader } from '../../adapters/sqlite/run-file-reader.js';
import type { BatchRunRecord } from '../../shared/batch/run-record.js';
import { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import { RedisSpeedStateStore } from '../../adapters/redis/speed-state-store.js';
import { runWiredBatch } from '../../cli/batch-wiring.js';
import { referenceEngine } from '../../cli/batch-engines.js';
import { silentLogger } from '../../platform/logger.js';
import type { QueryContext } from '../../serving-layer/query/context.js';
import { rangeQuery, resolveQuery } from '../../serving-layer/query/params.js';
import { seriesAnswer } from '../../serving-layer/query/series.js';
import { totalsAnswer } from '../../serving-layer/query/totals.js';
import type { BucketRow } from '../../shared/ports.js';
import { referenceFold, referenceTotals, type FinalValues } from '../../shared/reference-fold.js';
import { retentionPolicy } from '../../shared/speed/retention.js';
import { HOUR_MS, MINUTE_MS, floorTo, granularityMs, type Granularity } from '../../shared/time.js';
import { viewSetFromDocument } from '../../shared/views/load.js';
import { T0, writeCheckpoints, writeSegments } from '../support/batch-master.js';
import { RunPublisher } from '../support/batch-runs.js';
import { runFileContent } from '../support/run-file-content.js';
import { applyToSpeed } from '../support/speed-apply.js';
import { speedContext, viewStore } from '../support/speed-harness.js';
import { testContext, type TestContext } from '../support/context.js';
import { rand } from '../unit/_prng.js';

const doc = {
  views: [
    {
      name: 'orders',
      dimensions: ['country'],
      filter: { type: 'order' },
      measures: {
        n: { type: 'count' },
        mean: { type: 'avg', field: 'amount', decimals: 2 },
        total: { type: 'sum', field: 'amount', decimals: 2 },
        latency: { type: 'avg', field: 'ms', decimals: 0 },
      },
      granularities: ['minute', 'hour', 'day'],
    },
  ],
};
const views = viewSetFromDocument(doc, 'avg test');
const viewsJson = JSON.stringify(doc);
const view = views.byName.orders!;
const COUNTRIES = ['DE', 'FR', 'JP', 'NONE'];

/** Orders over [from, to): some without an amount (avg counts only those with one), country NONE never has one (avg null). */
function events(seed: number, n: number, from: number, to: number): object[] {
  const r = rand(seed);
  return Array.from({ length: n }, (_, i) => {
    const country = r.pick(COUNTRIES);
    const withAmount = country !== 'NONE' && r.chance(0.8);
    return {
      id: `o${seed}-${i}`,
      ts: r.int(from, to - 1),
      type: 'order',
      country,
      ...(withAmount ? { amount: r.int(1, 99_999) / 100 } : {}),
      ...(r.chance(0.7) ? { ms: r.int(0, 5000) } : {}),
    };
  });
}

/** The rows of one view and granularity, keyed as the reference fold keys its groups. */
function keyed(rows: readonly BucketRow[]): Map<string, FinalValues> {
  return new Map(rows.map((r) => [JSON.stringify([r.view, r.granularity, r.bucketStart, r.dims]), r.values]));
}

function referenceOf(lines: readonly (string | object)[], g: Granularity): Map<string, FinalValues> {
  return new Map([...referenceFold(lines, views)].filter(([k]) => (JSON.parse(k) as unknown[])[1] === g));
}

describe('avg: a measure kind of two cells, from the measure table alone', () => {
  it('the duckdb and reference engines publish identical run files, equal to the reference fold', async () => {
    const ctx = testContext({ LAMBDA_BATCH_WORKERS: '2', LAMBDA_TOPIC_PARTITIONS: '2', LAMBDA_BATCH_MEMORY_MB: '256' });
    try {
      const lines = events(1, 1500, T0, T0 + 2 * 86_400_000).map((e) => JSON.stringify(e));
      const master = new LocalMasterDataset(fileURLToPath(ctx.config.masterUrl));
      await writeSegments(master, lines, { topic: ctx.config.kafka.topic, files: 4, partitions: 2 });
      await writeCheckpoints(master, ctx.config.kafka.topic, 2, T0 + 3 * 86_400_000);
      const ref = await runWiredBatch({ config: ctx.config, views, master, log: silentLogger(), engine: referenceEngine(ctx.config) });
      const duckdb = new DuckDbBatchEngine({ threads: 2, memoryMb: 256, workDir: join(ctx.config.batch.dir, 'duckdb'), fileDelayMs: 0, compact: true });
      const duck = await runWiredBatch({ config: ctx.config, views, master, log: silentLogger(), engine: duckdb });
      const path = (runId: string) => join(ctx.config.batch.dir, 'runs', `${runId}.sqlite`);
      const a = runFileContent(path(ref.runId));
      const b = runFileContent(path(duck.runId));
      expect(Object.keys(b)).toEqual(Object.keys(a));
      for (const key of Object.keys(a)) expect(b[key], `run file table ${key}`).toEqual(a[key]);
      // The sum and count cells of each avg are columns of their own.
      expect((a.view_orders as string[]).length).toBeGreaterThan(100);

      const reader = RunFileReader.open(path(duck.runId), { runId: duck.runId } as BatchRunRecord);
      try {
        for (const g of view.granularities) {
          const rows = reader.series({ view: 'orders', granularity: g, from: 0, to: T0 + 4 * 86_400_000 });
          expect(keyed(rows), g).toEqual(referenceOf(lines, g));
        }
        const none = reader.series({ view: 'orders', granularity: 'day', from: 0, to: T0 + 4 * 86_400_000, filter: { country: 'NONE' } });
        expect(none.length).toBeGreaterThan(1);
        expect(none.every((r) => r.values.mean === null && r.cells?.['mean.count'] === 0)).toBe(true);
        expect(none.every((r) => (r.values.n ?? 0) > 0)).toBe(true);
      } finally {
        reader.close();
      }
    } finally {
      ctx.cleanup();
    }
  });
});

describe('avg in the speed layer and merged by the serving layer', () => {
  let ctx: TestContext;
  let redis: Redis;
  let dir: string;
  let publisher: RunPublisher;
  let store: SqliteBatchViewStore;
  let query: QueryContext;
  const NOW = floorTo(Date.now(), 'hour') + 17 * MINUTE_MS;
  const W = NOW - 6 * HOUR_MS - 7 * MINUTE_MS;
  const all = events(2, 2000, NOW - 20 * HOUR_MS, NOW);

  beforeAll(async () => {
    ctx = speedContext({ LAMBDA_BATCH_CRON: '0 0 * * 0' });
    redis = new Redis(ctx.config.redis.url);
    dir = mkdtempSync(join(tmpdir(), 'measure-avg-'));
    const state = new RedisSpeedStateStore(redis, ctx.config.redis.keyPrefix, retentionPolicy(ctx.config), ctx.config.speed.dedupeWindowMs);
    for (const p of [0, 1]) {
      const mine = all.filter((_, i) => i % 2 === p).map((e) => JSON.stringify(e));
      await applyToSpeed(state, ctx.config, views, p, mine, { arrival: NOW, coveredSince: NOW - 21 * HOUR_MS, now: NOW });
    }
    // The run holds the events before W (and a bucket holding W only in part: the speed layer serves it).
    publisher = new RunPublisher(dir, views, viewsJson);
    publisher.publish(
      'run-1',
      W,
      all.filter((e) => (e as { ts: number }).ts < W),
      2,
    );
    store = new SqliteBatchViewStore(dir);
    query = { views, batch: store, speed: viewStore(redis, ctx.config, views), now: () => NOW };
  });
  afterAll(() => closeServingFixture({ store, publisher, dir, redis, ctx }));

  it('the Redis speed views equal the reference fold at every granularity', async () => {
    for (const g of view.granularities) {
      const rows = await query.speed.series({ view: 'orders', granularity: g, from: NOW - 21 * HOUR_MS, to: NOW + HOUR_MS });
      expect(keyed(rows), g).toEqual(referenceOf(all, g));
    }
  });

  it('series and totals merge batch and speed buckets exactly, also rolled up to no dimension', async () => {
    for (const g of ['minute', 'hour'] as const) {
      const len = granularityMs(g);
      const from = floorTo(NOW - 19 * HOUR_MS, g);
      const to = floorTo(NOW, g) + len;
      const rq = (extra: Record<string, string> = {}) =>
        resolveQuery(view, rangeQuery.parse({ granularity: g, from: String(from), to: String(to), ...extra }), NOW);
      const { answer } = await seriesAnswer(query, view, rq());
      expect(answer.buckets.some((b) => b.source === 'batch')).toBe(true);
      expect(answer.buckets.some((b) => b.source === 'speed')).toBe(true);
      const folded = referenceOf(all, g);
      for (const b of answer.buckets) {
        for (const grp of b.groups)
          expect(grp.values, `${g} ${b.start} ${grp.dims.country}`).toEqual(folded.get(JSON.stringify(['orders', g, b.start, [grp.dims.country]])));
      }
      // Totals over the range, per country and over every country: one group of both layers' cells.
      const extras: Record<string, string>[] = [{}, { groupBy: '' }];
      for (const extra of extras) {
        const totals = (await totalsAnswer(query, view, rq(extra))).answer.totals;
        const want = referenceTotals(all, views, { view: 'orders', granularity: g, from, to });
        if ('groupBy' in extra) {
          const everything = referenceTotals(
            all.map((e) => ({ ...e, country: 'x' })),
            views,
            { view: 'orders', granularity: g, from, to },
          );
          expect(totals.map((t) => t.values)).toEqual([...everything.values()]);
        } else {
          expect(new Map(totals.map((t) => [JSON.stringify([t.dims.country]), t.values]))).toEqual(want);
        }
      }
    }
  });
});
