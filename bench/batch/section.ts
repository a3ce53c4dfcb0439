/**
 * The batch section: a full recompute (runBatch: map across worker threads, exact dedupe, SQLite
 * run file, publish) over 1M and 5M generated events, each run in its own process for its peak
 * memory, and DuckDB computing the same views with the same dedupe over the same files, runs
 * alternating so both see the same machine load.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { BatchRunRecord } from '../../adapters/sqlite/run-record.js';
import { benchContext } from '../lib/bench-context.js';
import { runJsonChild } from '../lib/child.js';
import { currentLoad } from '../lib/machine.js';
import { fmtCount, fmtMiB, fmtMs, fmtRate, fmtSummary, goal, type SectionResult, type Table } from '../lib/report.js';
import type { BenchServices } from '../lib/services.js';
import { summarize, type Summary } from '../lib/stats.js';
import { BATCH_DATASET_DEFAULTS, writeDataset, type DatasetInfo } from './dataset.js';

export interface BatchPlan {
  sizes: number[];
  reps: number;
}

export const BATCH_FULL: BatchPlan = { sizes: [1_000_000, 5_000_000], reps: 3 };
export const BATCH_QUICK: BatchPlan = { sizes: [200_000], reps: 2 };

interface BatchChild {
  record: BatchRunRecord;
  wallMs: number;
  cpuMs: number;
  peakRssBytes: number;
}

interface DuckChild {
  wallMs: number;
  cpuMs: number;
  peakRssBytes: number;
  rows: Record<string, number>;
  version: string;
}

export interface BatchSizeResult {
  events: number;
  dataset: DatasetInfo;
  load: number;
  lambda: { eventsPerSec: Summary; totalMs: Summary; peakRssBytes: Summary; cpuMs: Summary; runs: BatchChild[] };
  duckdb: { eventsPerSec: Summary; wallMs: Summary; peakRssBytes: Summary; runs: DuckChild[] };
  /** runBatch with LAMBDA_BATCH_ENGINE=duckdb (issue 15): the same run, the views computed by DuckDB */
  engine: { eventsPerSec: Summary; totalMs: Summary; peakRssBytes: Summary; runs: BatchChild[]; sameGroups: boolean };
  /** lambda-arch time / DuckDB time (medians) */
  ratio: number;
  /** both computed the same groups: DuckDB's rows equal the batch run's group count */
  sameGroups: boolean;
}

export async function batchSection(services: BenchServices, plan: BatchPlan, log: (s: string) => void): Promise<SectionResult & { duckdbVersion: string | null }> {
  const results: BatchSizeResult[] = [];
  let duckdbVersion: string | null = null;
  for (const events of plan.sizes) {
    const ctx = benchContext(services, 'batch', { LAMBDA_TOPIC_PARTITIONS: String(BATCH_DATASET_DEFAULTS.partitions) });
    try {
      const masterRoot = join(ctx.dataDir, 'master');
      log(`writing a master dataset of ${fmtCount(events)} events`);
      const dataset = await writeDataset(masterRoot, { ...BATCH_DATASET_DEFAULTS, events, topic: ctx.config.kafka.topic });
      const load = currentLoad();
      const lambda: BatchChild[] = [];
      const duck: DuckChild[] = [];
      const engine: BatchChild[] = [];
      for (let i = 0; i < plan.reps; i++) {
        const b = await runJsonChild<BatchChild>('bench/batch/run-child.ts', { BENCH_ENV: JSON.stringify(ctx.env) });
        lambda.push(b);
        const dbPath = join(ctx.dataDir, `duck-${i}.duckdb`);
        const d = await runJsonChild<DuckChild>('bench/batch/duckdb-child.ts', { BENCH_DUCKDB: JSON.stringify({ masterRoot, dbPath }) });
        rmSync(dbPath, { force: true });
        rmSync(`${dbPath}.wal`, { force: true });
        duck.push(d);
        duckdbVersion = d.version;
        const e = await runJsonChild<BatchChild>('bench/batch/run-child.ts', { BENCH_ENV: JSON.stringify({ ...ctx.env, LAMBDA_BATCH_ENGINE: 'duckdb' }) });
        engine.push(e);
        log(`${fmtCount(events)} events: lambda-arch ${fmtMs(b.record.timings.totalMs ?? b.wallMs)}, DuckDB ${fmtMs(d.wallMs)}, lambda-arch on its duckdb engine ${fmtMs(e.record.timings.totalMs ?? e.wallMs)}`);
      }
      const lambdaMs = lambda.map((b) => b.record.timings.totalMs ?? b.wallMs);
      const groups = lambda[0]?.record.counts.groups ?? -1;
      const duckRows = Object.values(duck[0]?.rows ?? {}).reduce((a, b) => a + b, 0);
      const result: BatchSizeResult = {
        events,
        dataset,
        load,
        lambda: {
          eventsPerSec: summarize(lambdaMs.map((ms) => dataset.records / (ms / 1000))),
          totalMs: summarize(lambdaMs),
          peakRssBytes: summarize(lambda.map((b) => b.peakRssBytes)),
          cpuMs: summarize(lambda.map((b) => b.cpuMs)),
          runs: lambda,
        },
        duckdb: {
          eventsPerSec: summarize(duck.map((d) => dataset.records / (d.wallMs / 1000))),
          wallMs: summarize(duck.map((d) => d.wallMs)),
          peakRssBytes: summarize(duck.map((d) => d.peakRssBytes)),
          runs: duck,
        },
        engine: {
          eventsPerSec: summarize(engine.map((e) => dataset.records / ((e.record.timings.totalMs ?? e.wallMs) / 1000))),
          totalMs: summarize(engine.map((e) => e.record.timings.totalMs ?? e.wallMs)),
          peakRssBytes: summarize(engine.map((e) => e.peakRssBytes)),
          runs: engine,
          sameGroups: engine.every((e) => e.record.counts.groups === groups),
        },
        ratio: 0,
        sameGroups: groups === duckRows,
      };
      result.ratio = result.lambda.totalMs.median / result.duckdb.wallMs.median;
      results.push(result);
    } finally {
      await ctx.cleanup();
    }
  }

  const table: Table = {
    title: 'Batch layer: full recompute from the master dataset (gzip JSONL, ~2% duplicates) vs DuckDB on the same files',
    columns: ['events', 'files', 'lambda-arch events/s', 'lambda-arch time', 'peak RSS', 'CPU time', 'DuckDB events/s', 'DuckDB peak RSS', 'time ratio (lambda-arch / DuckDB)', 'same groups', 'load avg'],
    rows: results.map((r) => [
      fmtCount(r.events),
      String(r.dataset.files),
      fmtSummary(r.lambda.eventsPerSec, fmtRate),
      fmtMs(r.lambda.totalMs.median),
      fmtMiB(r.lambda.peakRssBytes.max),
      fmtMs(r.lambda.cpuMs.median),
      fmtSummary(r.duckdb.eventsPerSec, fmtRate),
      fmtMiB(r.duckdb.peakRssBytes.max),
      `${r.ratio.toFixed(2)}x`,
      r.sameGroups ? 'yes' : 'NO (see results.json)',
      String(r.load),
    ]),
    notes: [
      'lambda-arch: runBatch as the batch role runs it (2 map worker threads on this machine, exact dedupe of every id on the main thread, every view at minute/hour/day, one SQLite file written and published); time = the run record\'s totalMs, from lease to publish. Peak RSS = the whole process (main, workers, SQLite), the highest of the runs.',
      'DuckDB: read_json over the same .jsonl.gz files, QUALIFY row_number() OVER (PARTITION BY id) = 1, then one CREATE TABLE ... GROUP BY per view and granularity (count, count(DISTINCT), sum/max of the value scaled to an integer), into a DuckDB file; all its threads (default: one per core).',
      'Memory is bounded by the dedupe state (about 24 bytes + the id length per distinct id, LAMBDA_BATCH_DEDUPE_MAX_IDS) plus the partial aggregates (one state per group, exact distinct sets) and the chunks in flight.',
    ],
  };
  const engineTable: Table = {
    title: 'Batch layer: the DuckDB engine (LAMBDA_BATCH_ENGINE=duckdb, issue 15) beside the default engine and plain DuckDB, same files',
    columns: ['events', 'duckdb engine events/s', 'duckdb engine time', 'peak RSS', 'vs plain DuckDB (time ratio)', 'vs the default engine (time ratio)', 'same groups as the default engine', 'load avg'],
    rows: results.map((r) => [
      fmtCount(r.events),
      fmtSummary(r.engine.eventsPerSec, fmtRate),
      fmtMs(r.engine.totalMs.median),
      fmtMiB(r.engine.peakRssBytes.max),
      `${(r.engine.totalMs.median / r.duckdb.wallMs.median).toFixed(2)}x`,
      `${(r.engine.totalMs.median / r.lambda.totalMs.median).toFixed(2)}x`,
      r.engine.sameGroups ? 'yes' : 'NO (see results.json)',
      String(r.load),
    ]),
    notes: [
      'runBatch with LAMBDA_BATCH_ENGINE=duckdb: the same lease, snapshot and publish; lines stream through the master dataset port into DuckDB, which validates the plain ones in SQL (the others by shared/events.ts), dedupes by id and computes every view; memory bounded by LAMBDA_BATCH_MEMORY_MB (default 2048) with spilling to a scratch database file. Not the default yet: see issue 15.',
    ],
  };
  const biggest = results[results.length - 1];
  const scaleTable: Table = {
    title: 'Batch layer scale: time as the master dataset grows',
    columns: ['events', 'lambda-arch time', 'per million events', 'DuckDB time', 'per million events'],
    rows: results.map((r) => [fmtCount(r.events), fmtMs(r.lambda.totalMs.median), fmtMs(r.lambda.totalMs.median / (r.events / 1e6)), fmtMs(r.duckdb.wallMs.median), fmtMs(r.duckdb.wallMs.median / (r.events / 1e6))]),
    notes: [],
  };
  const largest = results.reduce<BatchSizeResult | undefined>((a, r) => (a === undefined || r.events > a.events ? r : a), undefined);
  return {
    tables: [table, scaleTable, engineTable],
    goals: [
      goal(`Batch throughput (${biggest ? fmtCount(biggest.events) : '?'} events)`, 400_000, biggest?.lambda.eventsPerSec.median ?? null, fmtRate),
      { ...goal('Batch time vs DuckDB (same files, same views)', 3, biggest?.ratio ?? null, (v) => `${v.toFixed(2)}x`, true), target: 'within 3x' },
      {
        goal: 'Batch memory bounded and stated',
        target: 'stated',
        measured: largest ? `peak RSS ${fmtMiB(largest.lambda.peakRssBytes.max)} at ${fmtCount(largest.events)} events` : 'not measured',
        met: largest ? true : null,
        distance: 'bounded by LAMBDA_BATCH_DEDUPE_MAX_IDS and the number of groups; see the batch table notes',
      },
      { ...goal('Batch on the DuckDB engine vs plain DuckDB (same files, same views)', 1.2, biggest ? biggest.engine.totalMs.median / biggest.duckdb.wallMs.median : null, (v) => `${v.toFixed(2)}x`, true), target: 'within 1.2x' },
    ],
    data: { plan, sizes: results },
    duckdbVersion,
  };
}
