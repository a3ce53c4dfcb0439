/**
 * What the batch layer records about a run, as stored in the catalog and in each run file.
 * `BatchRunRecord` extends the port's `BatchRunInfo` (shared/ports.ts) with the timings and the
 * extra counts docs/design-decisions.md §5 asks to keep with a run; anything typed as BatchRunInfo accepts it.
 */
import type { BatchEngineName } from '../batch-engine.js';
import type { ArchiveGap, BatchRunInfo } from '../ports.js';

export type RunPhase = 'starting' | 'snapshot' | 'map' | 'merge' | 'write' | 'publish';

/** Where a run in flight is; stored in the catalog so another process (the HTTP server) can show it. */
export interface RunProgress {
  phase: RunPhase;
  filesDone: number;
  filesTotal: number;
  /** compressed bytes of the finished files (MasterFile.sizeBytes) */
  bytesDone: number;
  bytesTotal: number;
  /** records read so far, valid or not */
  eventsRead: number;
  updatedAt: number;
}

/** Wall time of each phase, in milliseconds. */
export interface RunTimings {
  /** checkpoints + file listing */
  snapshotMs: number;
  /** read, parse, validate, dedupe and per-worker aggregation (the workers' map + combine) */
  mapMs: number;
  /** merging the workers' partial aggregates */
  mergeMs: number;
  /** writing the run's SQLite file (temp file, fsync, rename) */
  writeMs: number | null;
  /** the catalog transaction that makes the run current, and pruning */
  publishMs: number | null;
  totalMs: number | null;
}

/**
 * How the run arrived at A and W (batch-layer/run/completeness.ts): which partitions counted and
 * where that list came from, what A rests on, and the archive gaps the run's data has. Absent in
 * records written before it existed.
 */
export interface RunCompleteness {
  /** where the list of partitions came from: Kafka's metadata, or checkpoints + configured count */
  partitionsFrom: 'kafka' | 'fallback';
  /** why Kafka could not be asked (fallback only) */
  partitionsNote?: string;
  /** the partitions A is the minimum over */
  partitions: number[];
  /** partitions of the topic without a checkpoint (they make A unknown) */
  missingCheckpoints: number[];
  /** what A rests on */
  arrivalFrom: 'archiver' | 'imports' | 'none';
  /** what W rests on: A, the previous published run's W (A unknown), or nothing (W = 0) */
  watermarkFrom: 'arrival' | 'previous-run' | 'none';
  /** completed backfill imports in the snapshot, and when the latest one completed */
  imports: { completed: number; latestCompletedAt: number | null };
  /** offsets the archiver could not archive (deleted by Kafka first), from its checkpoints */
  gaps: ArchiveGap[];
  /** a sentence for humans when A or W is not simply min(completeThrough) */
  note?: string;
}

export interface BatchRunRecord extends BatchRunInfo {
  counts: BatchRunInfo['counts'] & {
    /** duplicate ids whose raw line differed from the kept one (32-bit hash); should be 0 */
    duplicatesDifferingPayload: number;
    /** compressed bytes of the master files read */
    bytesRead: number;
    /** valid, first-seen events folded into the views */
    eventsKept: number;
    /**
     * distinct-measure sketches written to the run file (issue 16): one per group and distinct
     * measure with members. Absent: the run keeps none (LAMBDA_BATCH_SKETCHES=false, or older).
     */
    sketches?: number;
  };
  /** in the catalog: all set; in the run file (written before it is complete): write/publish/total are null */
  timings: RunTimings;
  /** worker threads that mapped the files (the duckdb engine: DuckDB's threads) */
  workers: number;
  /** the batch engine that computed the run (LAMBDA_BATCH_ENGINE); absent in runs of older versions */
  engine?: BatchEngineName;
  /** the views source (file name) the run computed, for humans; viewsHash identifies the definitions */
  viewsSource: string;
  completeness?: RunCompleteness;
}

/** The run in flight, as the catalog's lease holds it (batch-layer/run/run-lease.ts). */
export interface LeaseInfo {
  holder: string;
  pid: number;
  hostname: string;
  runId: string;
  startedAt: number;
  expiresAt: number;
  progress: RunProgress | null;
}

/** What a run asks the catalog for when it takes the lease. */
export interface LeaseClaim {
  holder: string;
  pid: number;
  hostname: string;
  runId: string;
  startedAt: number;
  leaseMs: number;
}

/** A published run the catalog keeps (the newest LAMBDA_BATCH_KEEP_RUNS). */
export interface KeptRun {
  record: BatchRunRecord;
  /** file name inside `<batch dir>/runs/` */
  file: string;
  publishedAt: number;
}

/** The last failed run, for status pages. */
export interface FailureInfo {
  runId: string;
  at: number;
  code: string;
  message: string;
}

/** `<batch dir>/runs/`: the run files, one per kept run (batch-layer/run/run-files.ts). */
export const RUNS_DIR = 'runs';

/** `<batch dir>/runs/<runId>.sqlite`; the run id is also the file's base name. */
export function runFileName(runId: string): string {
  return `${runId}.sqlite`;
}

/** Suffix of a run file being written; such files are never read and are removed by the next run. */
export const TEMP_SUFFIX = '.tmp';
