/**
 * The batch section's compaction table (adapters/duckdb/compaction.ts): what the first run over a
 * new master dataset pays to compact its segments, what later runs gain by reading them, and the
 * default engine reading the JSON every run, each beside plain DuckDB on the same gzip JSONL files.
 */
import { fmtMiB, fmtMs, fmtRate, fmtSummary, type Table } from '../lib/report.js';
import { runMs, type BatchSizeResult } from './batch-results.js';
import { fmtCount } from '../lib/report.js';

export function compactionTable(results: readonly BatchSizeResult[]): Table {
  const vsDuck = (ms: number, r: BatchSizeResult) => `${(ms / r.duckdb.wallMs.median).toFixed(2)}x`;
  return {
    title: 'Batch layer: compacted segments (LAMBDA_BATCH_COMPACT) against the JSON every run, same files',
    columns: [
      'events',
      'segments (gzip JSONL)',
      'compacted (Parquet)',
      'first run: reads JSON, compacts',
      'of which writing Parquet',
      'later runs (default)',
      'JSON every run',
      'events/s',
      'vs plain DuckDB: first / later / JSON every run',
    ],
    rows: results.map((r) => [
      fmtCount(r.events),
      `${r.dataset.files}, ${fmtMiB(r.dataset.bytes)}`,
      fmtMiB(r.compactedBytes),
      fmtMs(runMs(r.compacting)),
      fmtMs(r.compacting.phases?.compact ?? 0),
      fmtMs(r.lambda.totalMs.median),
      fmtMs(r.jsonEveryRun.totalMs.median),
      `later ${fmtSummary(r.lambda.eventsPerSec, fmtRate)}; JSON ${fmtSummary(r.jsonEveryRun.eventsPerSec, fmtRate)}`,
      `${vsDuck(runMs(r.compacting), r)} / ${vsDuck(r.lambda.totalMs.median, r)} / ${vsDuck(r.jsonEveryRun.totalMs.median, r)}`,
    ]),
    notes: [
      'Compaction: the first run to read a segment keeps its validated load (the rows SQL judged, and the text of the lines TypeScript judges) as one Parquet file under <master>/compacted/<hash of the validation SQL>/; later runs read that instead of gunzipping and validating the JSON again. The JSONL segments stay the master dataset; a replaced segment or other views are never read from a stale file (test/integration/batch-compaction.test.ts).',
      'Plain DuckDB reads the gzip JSONL every time: it has no compacted copy. The goals below are measured on later runs, as a cron-driven batch layer runs over a dataset whose older segments are already compacted; the first run and the JSON-every-run figures are beside them.',
    ],
  };
}
