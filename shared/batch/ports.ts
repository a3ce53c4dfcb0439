/**
 * The batch layer's ports (docs/design-decisions.md, "Ports"): what a batch run needs of the
 * catalog, the run-file writer, Kafka's topic metadata, the speed layer's watermark and the batch
 * engines. Adapters implement them (adapters/sqlite, adapters/kafka, adapters/redis, adapters/master);
 * cli/batch-wiring.ts builds them and hands them to the batch layer, which imports no adapter.
 */
import type { GroupState } from '../aggregate/aggregate.js';
import type { StoredGroup, StoredSketch } from '../aggregate/stored-group.js';
import type { BatchEngine } from '../batch-engine.js';
import type { MasterDataset } from '../ports.js';
import type { ViewSet } from '../views/definition.js';
import type { BatchRunRecord, FailureInfo, KeptRun, LeaseClaim, LeaseInfo, RunProgress } from './run-record.js';

/**
 * The batch catalog (adapters/sqlite/catalog.ts): which run is served, the kept runs, the lease of
 * the run in flight and the last failure. Every call is synchronous and atomic.
 */
export interface RunCatalog {
  pointer(): { generation: number; runId: string | null };
  /** Takes the lease when it is free, expired, or its holder is gone; otherwise returns the holder's lease. */
  acquireLease(claim: LeaseClaim, now: number, holderGone: (lease: LeaseInfo) => boolean): { acquired: true } | { acquired: false; lease: LeaseInfo };
  /** Extends the lease and stores the progress; false when `holder` no longer holds it. */
  heartbeat(holder: string, expiresAt: number, progress: RunProgress): boolean;
  releaseLease(holder: string): void;
  lease(): LeaseInfo | null;
  /** Makes `run` the served run (if `holder` still holds the lease), keeps the newest `keepRuns`; returns the pruned runs. */
  publish(holder: string, run: KeptRun, keepRuns: number): KeptRun[];
  snapshot(): { generation: number; runId: string | null; runs: KeptRun[] };
  updateRecord(record: BatchRunRecord): void;
  runs(): KeptRun[];
  run(runId: string): KeptRun | null;
  recordFailure(f: FailureInfo): void;
  lastFailure(): FailureInfo | null;
  close(): void;
}

/** What one run file holds (adapters/sqlite/run-file-writer.ts writes it). */
export interface RunFileContent {
  views: ViewSet;
  /** the views file text the run computed, stored verbatim for readers and for humans */
  viewsJson: string;
  record: BatchRunRecord;
  /**
   * The rows: monoid states (the reference engine, tests) or groups already in stored form (any
   * batch engine, shared/aggregate/stored-group.ts). Exactly one of the two.
   */
  groups?: Iterable<GroupState>;
  stored?: Iterable<StoredGroup>;
  /**
   * The distinct measures' sketches (issue 16; adapters/sqlite/run-schema.ts). Present (even empty):
   * the file gets sketch tables and says so in meta; absent: the run keeps none. Iterated once, inside the write.
   */
  sketches?: Iterable<StoredSketch>;
  /** called with the number of sketches written (the record is written first, so it cannot hold it) */
  onSketches?: (n: number) => void;
}

/** Writes the run file at `finalPath` atomically; returns the view rows written. */
export type RunFileSink = (finalPath: string, content: RunFileContent) => number;

/** What Kafka says about a topic right now. */
export interface TopicLayout {
  exists: boolean;
  /** the topic's partition ids, sorted (none when it does not exist) */
  partitions: number[];
  /** whether any partition holds a record now (high watermark above the log start) */
  hasRecords: boolean;
}

/** Asks the broker for a topic's real partitions and whether it holds records (never creates it). */
export type TopicDescriber = (topic: string) => Promise<TopicLayout>;

/**
 * Makes a published run's watermark W visible to the speed layer (late-arrival counts); W only
 * rises. Advisory: a failure leaves the run published.
 */
export type BatchWatermarkPublisher = (watermark: number) => Promise<unknown>;

/**
 * How a map worker (a worker_threads entry, which receives only cloneable data) opens the master
 * dataset: the URL of a module that exports `openWorkerMaster` (a WorkerMasterModule), and the
 * plain location to pass it. cli/ picks the module (docs/design-decisions.md, "Ports").
 */
export interface WorkerMasterRef {
  moduleUrl: string;
  location: unknown;
}

export interface WorkerMasterModule {
  openWorkerMaster(location: unknown): Promise<MasterDataset>;
}

/** Everything a batch run gets from outside besides the master dataset, built by cli/batch-wiring.ts. */
export interface BatchRunPorts {
  /** opens the catalog of a batch directory (created if needed) */
  openCatalog: (batchDir: string) => RunCatalog;
  writeRunFile: RunFileSink;
  describeTopic: TopicDescriber;
  /** the engine LAMBDA_BATCH_ENGINE names, made when the run reaches its map phase */
  createEngine: () => Promise<BatchEngine>;
}
