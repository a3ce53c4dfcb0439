/**
 * Narrow ports between the layers and their infrastructure (hexagonal style).
 * Interfaces only: adapters (local files / S3, Kafka, SQLite, Redis) implement
 * them, tests substitute in-memory fakes (test/support/serving-fakes.ts; fold-layers.ts there
 * fills them from the reference fold). A first draft: extend, don't widen.
 */
import type { Granularity } from './time.js';

// ---- master dataset (docs/design-decisions.md §4) ------------------------------------------------

export interface MasterFile {
  /** `events/arrival=YYYY-MM-DDTHH/<topic>-<partition>-<firstOffset>.jsonl.gz` */
  key: string;
  /** `YYYY-MM-DDTHH` (UTC) */
  arrivalHour: string;
  topic: string;
  partition: number;
  firstOffset: number;
  sizeBytes: number;
}

export interface Checkpoint {
  topic: string;
  partition: number;
  /** last archived offset (inclusive) */
  lastOffset: number;
  /** arrival time (epoch ms) up to which this partition is known complete */
  completeThrough: number;
  updatedAt: number;
  /**
   * Offset ranges the archiver could not read because Kafka no longer had them (retention,
   * compaction): their records are missing from the master dataset for good. Absent = none.
   */
  gaps?: ArchiveGap[];
}

/** Offsets `fromOffset..toOffset` (inclusive) of a partition that never reached the master dataset. */
export interface ArchiveGap {
  topic: string;
  partition: number;
  fromOffset: number;
  toOffset: number;
  /** when the archiver noticed (epoch ms) */
  detectedAt: number;
}

export interface MasterSegment {
  topic: string;
  partition: number;
  firstOffset: number;
  /** arrival time (epoch ms) of the segment: picks the arrival=... folder */
  arrivalTs: number;
  /**
   * message values as received, one per line. The archiver sends invalid ones to
   * the DLQ; readers still re-validate, since the views file may have changed.
   */
  lines: string[];
}

export interface MasterDataset {
  /** every file, sorted by key */
  listFiles(): Promise<MasterFile[]>;
  /** the gunzipped JSONL lines of one file */
  readLines(key: string): AsyncIterable<string>;
  /**
   * Where the file lies on this machine's file system, for an engine that reads files itself
   * (the duckdb batch engine); absent for a dataset that is not on local disk (S3).
   */
  localPath?(key: string): string;
  /**
   * `s3://bucket/object-key` of a file in S3, for an engine that reads S3 itself (the spark
   * engine through s3a); absent for a dataset that is not in S3.
   */
  objectUrl?(key: string): string;
  /**
   * Atomic, durable, and fenced: creates the segment only if its name is free. The same bytes
   * already there = an idempotent replay (success); different bytes = a LambdaError CONFLICT with
   * `details.segmentConflict` (never overwritten). `replacing` (the `details.existing` of such an
   * error) replaces exactly that object, and fails the same way if it changed since.
   */
  writeSegment(seg: MasterSegment, opts?: { replacing?: string }): Promise<MasterFile>;
  readCheckpoints(): Promise<Checkpoint[]>;
  writeCheckpoint(cp: Checkpoint): Promise<void>;
  /** e.g. "file:///data/master" or "s3://bucket/prefix", for logs and status */
  describe(): string;
  /**
   * Checks at start that the dataset can be reached and used (folder writable; S3 endpoint up,
   * credentials accepted, bucket present), so a misconfiguration stops a role before it begins
   * work, with a LambdaError (CONFIG_INVALID or DEPENDENCY_DOWN) naming the setting to fix.
   */
  verify?(): Promise<void>;
}

// ---- event log (Kafka) ---------------------------------------------------------

/** An invalid record on its way to the dead-letter topic (docs/design-decisions.md §2: never dropped silently). */
export interface DeadLetter {
  value: string | null;
  key: string | null;
  topic: string;
  partition: number;
  offset: number;
  /** Which layer found it invalid (archiver | speed). */
  layer: string;
  reason: string;
  message: string;
}

/** Where a layer sends invalid records: the dead-letter topic (adapters/kafka/dead-letter-sink.ts). */
export interface DeadLetterSink {
  start(): Promise<void>;
  /** resolves once every letter is durable; rejects (retriable) when the log is unreachable */
  send(letters: readonly DeadLetter[]): Promise<void>;
  stop(): Promise<void>;
}

// ---- batch views (SQLite, one file per run) -------------------------------------

export interface BatchRunInfo {
  runId: string;
  /** W = floor_to_minute(A - allowedLateness) */
  watermark: number;
  /** A = min over partitions of completeThrough; null when no checkpoint existed */
  arrivalComplete: number | null;
  startedAt: number;
  finishedAt: number;
  counts: {
    files: number;
    eventsRead: number;
    /** by InvalidReason */
    invalid: Record<string, number>;
    duplicates: number;
    groups: number;
  };
  /** ViewSet.hash of the definitions the run computed */
  viewsHash: string;
  /**
   * What the run read, for exact drift attribution (docs/design-decisions.md, "Drift"): when it
   * read the checkpoints, and per partition of the event topic the last offset its checkpoint
   * vouched for; the run read exactly the records at or below it. Absent in older runs.
   */
  snapshot?: RunSnapshot;
  /** how the run arrived at A and W; `gaps`: offsets Kafka deleted before the archiver read them */
  completeness?: { gaps: ArchiveGap[] };
}

export interface RunSnapshot {
  /** when the run read the checkpoints (epoch ms) */
  at: number;
  /** partition (as a string key) -> last offset read; a partition with no checkpoint is absent */
  through: Record<string, number>;
}

export interface BucketRow {
  view: string;
  granularity: Granularity;
  bucketStart: number;
  /** one value per view dimension, in order; null = missing */
  dims: (string | null)[];
  /** finalized values keyed by measure name */
  values: Record<string, number | null>;
  /**
   * The stored cells the values finalize from (shared/aggregate/measure-kinds.ts), keyed by cell
   * name: what the serving layer combines when it rolls rows up, so every measure, also one of
   * several cells (avg), combines exactly across groups and layers. Every store sets it; absent
   * (a hand-built row), the table derives it from the values of one-cell measures.
   */
  cells?: Record<string, number | null>;
  /**
   * How many stored rows this row combines (absent = 1): more than 1 only when the query asked for
   * `keep` and the store rolled the other dimensions up (their dims are then null, and a distinct
   * measure is null: exact distinct counts cannot be added).
   */
  parts?: number;
}

export interface SeriesQuery {
  view: string;
  granularity: Granularity;
  /** [from, to) in epoch ms; buckets with start in bucketsInRange(from, to, g) */
  from: number;
  to: number;
  /** dimension name -> value; null selects the missing-value group */
  filter?: Record<string, string | null>;
  /**
   * The dimensions the caller will keep (its groupBy). A store may then combine the rows of a
   * bucket that differ only in the other dimensions, each measure by its monoid, and say so in
   * `parts`. Absent: one row per stored group.
   */
  keep?: readonly string[];
  /**
   * The caller refuses an answer that reads more rows than this (serving-layer/query/limits.ts): a
   * store may stop after maxRows + 1 rows instead of reading them all. Absent: no bound.
   */
  maxRows?: number;
}

/**
 * One stored group's sketch of a distinct measure (issue 16): Redis HyperLogLog bytes (shared/hll),
 * from a batch run file or from the speed layer. Sketches union (register-wise maximum) into
 * distinct counts over any range and any groupBy.
 */
export interface SketchRow {
  bucketStart: number;
  /** one value per view dimension, in order (never rolled up: unions are the reader's) */
  dims: (string | null)[];
  sketch: Uint8Array;
}

export interface BatchViewStore {
  /** the published run, or null before the first run */
  latestRun(): BatchRunInfo | null;
  /** kept runs, newest first */
  runs(): BatchRunInfo[];
  /** from the published run unless runId names a kept one */
  series(q: SeriesQuery, runId?: string): BucketRow[];
  /**
   * The sketches of distinct measure `measure` of every stored group of the query's range and
   * filter (`keep` is ignored), or null when the run keeps no sketches. Optional: a store without
   * it keeps none.
   */
  sketches?(q: SeriesQuery, measure: string, runId?: string): SketchRow[] | null;
  /**
   * The published run and the kept runs as of now, held for the length of one answer: a run
   * published or pruned meanwhile changes nothing the snapshot reads. Optional: a store without
   * it is read by run id (serving-layer/query/snapshot.ts), which cannot hold a pruned run.
   */
  snapshot?(opts?: { hold?: number }): BatchSnapshot;
}

/**
 * One answer's view of the batch layer: `run` gives W and every batch row of the answer, so an
 * answer never takes W from one run and rows from another.
 */
export interface BatchSnapshot {
  /** the published run when the snapshot was taken, or null before the first run */
  readonly run: BatchRunInfo | null;
  /** the kept runs then, newest first */
  readonly runs: readonly BatchRunInfo[];
  /**
   * Rows of `run`, or of the kept run `runId`. The newest `hold` kept runs (default 1) are held
   * open when the snapshot is taken, so they stay readable even if pruned later; another run is
   * opened on demand and throws LambdaError NOT_FOUND if it was pruned by then.
   */
  series(q: SeriesQuery, runId?: string): BucketRow[];
  /** BatchViewStore.sketches of the same run: null when it keeps none */
  sketches(q: SeriesQuery, measure: string, runId?: string): SketchRow[] | null;
  /** ends the answer: the store may now close files of runs pruned meanwhile. Idempotent. */
  release(): void;
}

// ---- speed views (Redis) -------------------------------------------------------

export interface SpeedStatus {
  /** event time from which the speed views are complete; null before the first start */
  coveredSince: number | null;
  partitions: { partition: number; offset: number; lag?: number }[];
  lateArrivals?: number;
}

/** A late-class event the speed layer applied (docs/design-decisions.md, "Drift"). */
export interface LateClassEvent {
  bucketStart: number;
  dims: (string | null)[];
  partition: number;
  offset: number;
  /** Kafka timestamp: when it arrived */
  arrival: number;
}

/** A speed bucket row plus the counters the drift report attributes differences to (docs/design-decisions.md, "Drift"). */
export interface SpeedRowWithCounters extends BucketRow {
  /** events applied to this bucket after it was already behind the published batch watermark */
  late: number;
  /** events applied although another copy of their id was applied first (only when speed dedupe is off) */
  duplicates: number;
  /** events applied without a dedupe check (they arrived after the dedupe window of their event hour) */
  unchecked: number;
}

export interface SpeedViewStore {
  series(q: SeriesQuery): Promise<BucketRow[]>;
  status(): Promise<SpeedStatus>;
}
