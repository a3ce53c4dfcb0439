/**
 * The batch section: a full recompute (runBatch: map across worker threads, exact dedupe, SQLite
 * run file, publish) over 1M and 5M generated events, each run in its own process for its peak
 * memory, and DuckDB computing the same views with the same dedupe over the same files, runs
 * alternating so both see the same machine load.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { benchContext } from '../lib/bench-context.js';
import { runJsonChild } from '../lib/child.js';
import { currentLoad } from '../lib/machine.js';
import { fmtCount, fmtMiB, fmtMs, fmtRate, fmtSummary, goal, type SectionResult, type Table } from '../lib/report.js';
import type { BenchServices } from '../lib/services.js';
import { summarize } from '../lib/stats.js';
import { COMPACTED_DIR } from '../../adapters/duckdb/compaction.js';
import { compactionTable } from './compaction-table.js';
import { folderBytes, phasesText, runMs, summarizeRuns, type BatchChild, type BatchSizeResult, type DuckChild } from './batch-results.js';
import { BATCH_DATASET_DEFAULTS, writeDataset } from './dataset.js';
import { ENGINES_FULL, ENGINES_QUICK, enginesTable, type EngineResult, type EnginesPlan } from './engines-section.js';

export interface BatchPlan {
  sizes: number[];
  reps: number;
  /** sizes above this run once, and without the reference engine (minutes per run) */
  bigAbove: number;
  /** the three engines side by side, Spark included (engines-section.ts) */
  engines: EnginesPlan;
}

export const BATCH_FULL: BatchPlan = { sizes: [1_000_000, 5_000_000, 20_000_000], reps: 3, bigAbove: 5_000_000, engines: ENGINES_FULL };
export const BATCH_QUICK: BatchPlan = { sizes: [200_000], reps: 2, bigAbove: 5_000_000, engines: ENGINES_QUICK };

export async function batchSection(
  services: BenchServices,
  plan: BatchPlan,
  log: (s: string) => void,
): Promise<SectionResult & { duckdbVersion: string | null }> {
  const results: BatchSizeResult[] = [];
  let duckdbVersion: string | null = null;
  for (const events of plan.sizes) {
    const big = events > plan.bigAbove;
    const ctx = benchContext(services, 'batch', { LAMBDA_TOPIC_PARTITIONS: String(BATCH_DATASET_DEFAULTS.partitions) });
    try {
      const masterRoot = join(ctx.dataDir, 'master');
      log(`writing a master dataset of ${fmtCount(events)} events`);
      const dataset = await writeDataset(masterRoot, { ...BATCH_DATASET_DEFAULTS, events, topic: ctx.config.kafka.topic });
      const load = currentLoad();
      const lambda: BatchChild[] = [];
      const jsonEveryRun: BatchChild[] = [];
      const noSketches: BatchChild[] = [];
      const reference: BatchChild[] = [];
      const duck: DuckChild[] = [];
      // The first run compacts every segment as it reads it; the runs measured below read those.
      const compacting = await runJsonChild<BatchChild>('bench/batch/run-child.ts', { BENCH_ENV: JSON.stringify(ctx.env) });
      const compactedBytes = folderBytes(join(masterRoot, COMPACTED_DIR));
      log(`${fmtCount(events)} events: first run (compacting ${dataset.files} segments, ${fmtMiB(compactedBytes)}) ${fmtMs(runMs(compacting))}`);
      for (let i = 0; i < (big ? 1 : plan.reps); i++) {
        // Alternating, so every variant sees the same machine load.
        const b = await runJsonChild<BatchChild>('bench/batch/run-child.ts', { BENCH_ENV: JSON.stringify(ctx.env) });
        lambda.push(b);
        const dbPath = join(ctx.dataDir, `duck-${i}.duckdb`);
        const d = await runJsonChild<DuckChild>('bench/batch/duckdb-child.ts', { BENCH_DUCKDB: JSON.stringify({ masterRoot, dbPath }) });
        rmSync(dbPath, { force: true });
        rmSync(`${dbPath}.wal`, { force: true });
        duck.push(d);
        duckdbVersion = d.version;
        const n = await runJsonChild<BatchChild>('bench/batch/run-child.ts', { BENCH_ENV: JSON.stringify({ ...ctx.env, LAMBDA_BATCH_SKETCHES: 'false' }) });
        noSketches.push(n);
        const j = await runJsonChild<BatchChild>('bench/batch/run-child.ts', { BENCH_ENV: JSON.stringify({ ...ctx.env, LAMBDA_BATCH_COMPACT: 'false' }) });
        jsonEveryRun.push(j);
        let refText = 'not run at this size';
        if (!big) {
          const r = await runJsonChild<BatchChild>('bench/batch/run-child.ts', { BENCH_ENV: JSON.stringify({ ...ctx.env, LAMBDA_BATCH_ENGINE: 'reference' }) });
          reference.push(r);
          refText = fmtMs(runMs(r));
        }
        log(
          `${fmtCount(events)} events: lambda-arch ${fmtMs(runMs(b))} (without sketches ${fmtMs(runMs(n))}, JSON every run ${fmtMs(runMs(j))}), plain DuckDB ${fmtMs(d.wallMs)}, reference engine ${refText}`,
        );
      }
      const groups = lambda[0]?.record.counts.groups ?? -1;
      const duckRows = Object.values(duck[0]?.rows ?? {}).reduce((a, c) => a + c, 0);
      const result: BatchSizeResult = {
        events,
        dataset,
        load,
        lambda: summarizeRuns(lambda, dataset.records, groups),
        compacting,
        compactedBytes,
        jsonEveryRun: summarizeRuns(jsonEveryRun, dataset.records, groups),
        noSketches: summarizeRuns(noSketches, dataset.records, groups),
        reference: reference.length > 0 ? summarizeRuns(reference, dataset.records, groups) : null,
        duckdb: {
          eventsPerSec: summarize(duck.map((d) => dataset.records / (d.wallMs / 1000))),
          wallMs: summarize(duck.map((d) => d.wallMs)),
          peakRssBytes: summarize(duck.map((d) => d.peakRssBytes)),
          runs: duck,
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

  const perM = (ms: number, r: BatchSizeResult) => fmtMs(ms / (r.events / 1e6));
  const table: Table = {
    title: 'Batch layer: full recompute from the master dataset (gzip JSONL, ~2% duplicates) vs plain DuckDB on the same files',
    columns: [
      'events',
      'files',
      'lambda-arch events/s',
      'lambda-arch time',
      'peak RSS',
      'CPU time',
      'where the time went (median run)',
      'plain DuckDB events/s',
      'plain DuckDB peak RSS',
      'time ratio (lambda-arch / DuckDB)',
      'same groups',
      'load avg',
    ],
    rows: results.map((r) => [
      fmtCount(r.events),
      String(r.dataset.files),
      fmtSummary(r.lambda.eventsPerSec, fmtRate),
      fmtMs(r.lambda.totalMs.median),
      fmtMiB(r.lambda.peakRssBytes.max),
      fmtMs(r.lambda.cpuMs.median),
      phasesText(r.lambda),
      fmtSummary(r.duckdb.eventsPerSec, fmtRate),
      fmtMiB(r.duckdb.peakRssBytes.max),
      `${r.ratio.toFixed(2)}x`,
      r.sameGroups && r.lambda.sameGroups ? 'yes' : 'NO (see results.json)',
      String(r.load),
    ]),
    notes: [
      "lambda-arch: runBatch as the batch role runs it by default: the duckdb engine (LAMBDA_BATCH_ENGINE=duckdb, 2 threads on this machine, LAMBDA_BATCH_MEMORY_MB=2048) reading each segment's compacted Parquet written by the first run over the dataset (LAMBDA_BATCH_COMPACT=true; the first run read the gzip files with read_csv and validated them in SQL, and in TypeScript the lines SQL does not judge: see the compaction table), exact dedupe by id, every view at minute/hour/day, the distinct measures' HyperLogLog sketches (issue 16), one SQLite run file written and published; time = the run record's totalMs, from lease to publish. Peak RSS = the whole process (Node and DuckDB), the highest of the runs.",
      "Where the time went: the duckdb engine's phases in the median run: load = counting the compacted segments' rows from their footers (they are read in place by the dedupe) or, where there are none, read + validate in SQL, compact = writing compacted segments (within load), typescript = lines judged by shared/events.ts, dedupe = the window by id (over the compacted files, read there), views = GROUP BYs and sketches, write = the SQLite run file.",
      'plain DuckDB: read_json over the same .jsonl.gz files with a fixed schema (no validation), QUALIFY row_number() OVER (PARTITION BY id) = 1, then one CREATE TABLE ... GROUP BY per view and granularity (count, count(DISTINCT), sum/max of the value scaled to an integer), into a DuckDB file; all its threads (default: one per core). It validates nothing, keeps no invalid-record counts, builds no sketches and writes no SQLite file.',
      "Memory: bounded by DuckDB's memory_limit (LAMBDA_BATCH_MEMORY_MB, 2048 MiB; it spills to <batch dir>/duckdb/ past it) plus Node (the groups and sketches handed to the SQLite writer, about the size of the run file).",
    ],
  };
  const sketchTable: Table = {
    title: "Batch layer: with and without the distinct measures' sketches (LAMBDA_BATCH_SKETCHES, issue 16), same files",
    columns: [
      'events',
      'with sketches (default)',
      'run file',
      'without sketches',
      'run file',
      'time with / without',
      'where the time went without sketches (median run)',
    ],
    rows: results.map((r) => [
      fmtCount(r.events),
      `${fmtSummary(r.lambda.eventsPerSec, fmtRate)}, ${fmtMs(r.lambda.totalMs.median)}`,
      fmtMiB(r.lambda.runs[0]?.runFileBytes ?? 0),
      `${fmtSummary(r.noSketches.eventsPerSec, fmtRate)}, ${fmtMs(r.noSketches.totalMs.median)}`,
      fmtMiB(r.noSketches.runs[0]?.runFileBytes ?? 0),
      `${(r.lambda.totalMs.median / r.noSketches.totalMs.median).toFixed(2)}x`,
      phasesText(r.noSketches),
    ]),
    notes: [
      "Sketches: one HyperLogLog per group of each distinct measure (16384 registers, Redis's format, sparse while small), built in SQL from members hashed once in TypeScript (adapters/duckdb/sketch-rows.ts).",
    ],
  };
  const referenceTable: Table = {
    title: 'Batch layer: the reference engine (LAMBDA_BATCH_ENGINE=reference, the TypeScript fold kept as the oracle) beside the default, same files',
    columns: ['events', 'reference events/s', 'reference time', 'peak RSS', 'CPU time', 'vs the default engine (time ratio)', 'same groups', 'load avg'],
    rows: results.flatMap((r) =>
      r.reference === null
        ? []
        : [
            [
              fmtCount(r.events),
              fmtSummary(r.reference.eventsPerSec, fmtRate),
              fmtMs(r.reference.totalMs.median),
              fmtMiB(r.reference.peakRssBytes.max),
              fmtMs(r.reference.cpuMs.median),
              `${(r.reference.totalMs.median / r.lambda.totalMs.median).toFixed(2)}x`,
              r.reference.sameGroups ? 'yes' : 'NO (see results.json)',
              String(r.load),
            ],
          ],
    ),
    notes: [
      'The reference engine: worker-thread map, exact dedupe of every id on the main thread (LAMBDA_BATCH_DEDUPE_MAX_IDS), every view; not run above 5M events (minutes per run; it is the oracle of the tests, not the engine of large runs).',
    ],
  };
  const scaleTable: Table = {
    title: 'Batch layer scale: time per million events as the master dataset grows',
    columns: [
      'events',
      'lambda-arch time',
      'per million events',
      'without sketches: per million',
      'JSON every run: per million',
      'plain DuckDB time',
      'per million events',
    ],
    rows: results.map((r) => [
      fmtCount(r.events),
      fmtMs(r.lambda.totalMs.median),
      perM(r.lambda.totalMs.median, r),
      perM(r.noSketches.totalMs.median, r),
      perM(r.jsonEveryRun.totalMs.median, r),
      fmtMs(r.duckdb.wallMs.median),
      perM(r.duckdb.wallMs.median, r),
    ]),
    notes: ['Sizes above 5M run once (one run each of lambda-arch, without sketches, JSON every run, plain DuckDB, after the compacting first run).'],
  };
  const engines = await enginesTable(services, plan.engines, log);
  const at5M = results.find((r) => r.events === 5_000_000) ?? results[results.length - 1];
  const smallest = results[0];
  const largest = results.reduce<BatchSizeResult | undefined>((a, r) => (a === undefined || r.events > a.events ? r : a), undefined);
  const flat =
    smallest && largest && largest !== smallest
      ? largest.lambda.totalMs.median / (largest.events / 1e6) / (smallest.lambda.totalMs.median / (smallest.events / 1e6))
      : null;
  return {
    tables: [table, compactionTable(results), sketchTable, scaleTable, referenceTable, engines.table],
    goals: [
      {
        ...goal(`Batch throughput (${at5M ? fmtCount(at5M.events) : '?'} events)`, 400_000, at5M?.lambda.eventsPerSec.median ?? null, fmtRate),
        ...(at5M
          ? {
              measured: `${fmtRate(at5M.lambda.eventsPerSec.median)} from compacted segments (without sketches ${fmtRate(at5M.noSketches.eventsPerSec.median)}; JSON every run ${fmtRate(at5M.jsonEveryRun.eventsPerSec.median)})`,
            }
          : {}),
      },
      {
        ...goal('Batch time vs plain DuckDB (same files, same views)', 1.2, at5M?.ratio ?? null, (v) => `${v.toFixed(2)}x`, true),
        target: 'within 1.2x',
        ...(at5M
          ? {
              measured: `${at5M.ratio.toFixed(2)}x from compacted segments (without sketches ${(at5M.noSketches.totalMs.median / at5M.duckdb.wallMs.median).toFixed(2)}x; JSON every run ${(at5M.jsonEveryRun.totalMs.median / at5M.duckdb.wallMs.median).toFixed(2)}x)`,
            }
          : {}),
      },
      {
        goal: 'Batch memory bounded and stated',
        target: 'stated',
        measured: largest ? `peak RSS ${fmtMiB(largest.lambda.peakRssBytes.max)} at ${fmtCount(largest.events)} events` : 'not measured',
        met: largest ? true : null,
        distance: 'DuckDB memory_limit LAMBDA_BATCH_MEMORY_MB (2048 MiB) + Node; see the batch table notes',
      },
      {
        goal: 'Batch time per million events flat as the data grows',
        target: `${largest ? fmtCount(largest.events) : '?'} vs ${smallest ? fmtCount(smallest.events) : '?'} events: within 1.25x`,
        measured: flat === null ? 'not measured' : `${flat.toFixed(2)}x`,
        met: flat === null ? null : flat <= 1.25,
        distance: flat === null ? '' : flat <= 1.25 ? 'met' : `missed: ${flat.toFixed(2)}x`,
      },
    ],
    data: { plan, sizes: results, engines: engines.data satisfies EngineResult[] },
    duckdbVersion,
  };
}
