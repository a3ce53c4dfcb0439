/**
 * The batch section's results: what one run in its own process reports, their summaries, and the
 * helpers the section's tables share.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BatchRunRecord } from '../../shared/batch/run-record.js';
import { fmtMs } from '../lib/report.js';
import { summarize, type Summary } from '../lib/stats.js';
import type { DatasetInfo } from './dataset.js';

export interface BatchChild {
  record: BatchRunRecord;
  wallMs: number;
  cpuMs: number;
  peakRssBytes: number;
  phases: Record<string, number> | null;
  runFileBytes: number;
}

export interface DuckChild {
  wallMs: number;
  cpuMs: number;
  peakRssBytes: number;
  rows: Record<string, number>;
  version: string;
}

export interface RunSummary {
  eventsPerSec: Summary;
  totalMs: Summary;
  peakRssBytes: Summary;
  cpuMs: Summary;
  runs: BatchChild[];
  sameGroups: boolean;
}

export interface BatchSizeResult {
  events: number;
  dataset: DatasetInfo;
  load: number;
  /** runBatch as configured by default (the duckdb engine, sketches on), over segments compacted by the first run */
  lambda: RunSummary;
  /** the first run over the new dataset: reads the JSON and writes the compacted segments (LAMBDA_BATCH_COMPACT) */
  compacting: BatchChild;
  /** bytes of the compacted segments the first run wrote */
  compactedBytes: number;
  /** the default run reading the JSON every time (LAMBDA_BATCH_COMPACT=false) */
  jsonEveryRun: RunSummary;
  /** the same without the distinct measures' sketches (LAMBDA_BATCH_SKETCHES=false, issue 16) */
  noSketches: RunSummary;
  /** the reference engine (LAMBDA_BATCH_ENGINE=reference); null where not run */
  reference: RunSummary | null;
  duckdb: { eventsPerSec: Summary; wallMs: Summary; peakRssBytes: Summary; runs: DuckChild[] };
  /** default run time / plain DuckDB time (medians) */
  ratio: number;
  /** the default run's groups = DuckDB's rows */
  sameGroups: boolean;
}

export const runMs = (b: BatchChild) => b.record.timings.totalMs ?? b.wallMs;

export function summarizeRuns(runs: BatchChild[], records: number, groups: number): RunSummary {
  return {
    eventsPerSec: summarize(runs.map((b) => records / (runMs(b) / 1000))),
    totalMs: summarize(runs.map(runMs)),
    peakRssBytes: summarize(runs.map((b) => b.peakRssBytes)),
    cpuMs: summarize(runs.map((b) => b.cpuMs)),
    runs,
    sameGroups: runs.every((b) => b.record.counts.groups === groups),
  };
}

/** The median run's phases (duckdb engine), "load 8.2 s, typescript 0.0 s, ..." */
export function phasesText(r: RunSummary): string {
  const median = [...r.runs].sort((a, b) => runMs(a) - runMs(b))[Math.floor(r.runs.length / 2)];
  if (!median?.phases) return 'n/a';
  const t = median.record.timings;
  const parts = Object.entries(median.phases).map(([k, v]) => `${k} ${fmtMs(v)}`);
  return [...parts, `write ${fmtMs(t.writeMs ?? 0)}`].join(', ');
}

/** Bytes of every file under `dir` (0 when it does not exist). */
export function folderBytes(dir: string): number {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    total += e.isDirectory() ? folderBytes(path) : statSync(path).size;
  }
  return total;
}
