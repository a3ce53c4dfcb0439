/**
 * The batch engine port (issue 15): what a batch run asks of the engine that recomputes the views.
 * The run (batch-layer/run/run-batch.ts) owns everything around it (lease, snapshot and
 * completeness, the run file, the publish); an engine only turns the snapshot's master files into
 * the groups of every view at every granularity, with exact dedupe by event id and the counts.
 *
 * Implementations (LAMBDA_BATCH_ENGINE): `reference`, the TypeScript map/merge over worker
 * threads (batch-layer/run/reference-engine.ts), and `duckdb`, the views compiled to SQL
 * (shared/sql/) and run by DuckDB (adapters/duckdb/), and `spark`, the same SQL generator's Spark
 * dialect run by Apache Spark (adapters/spark/, issue 17). All must give identical run files on the
 * same files: the differential tests hold them to that.
 */
import type { MasterDataset, MasterFile } from './ports.js';
import type { StoredGroup, StoredSketch } from './aggregate/stored-group.js';
import type { ViewSet } from './views/definition.js';

export type BatchEngineName = 'reference' | 'duckdb' | 'spark';
export const BATCH_ENGINES: readonly BatchEngineName[] = Object.freeze(['reference', 'duckdb', 'spark'] as const);

export interface EngineProgress {
  filesDone: number;
  bytesDone: number;
  recordsRead: number;
}

export interface BatchEngineInput {
  /** the snapshot's files, in listing (key) order */
  files: readonly MasterFile[];
  views: ViewSet;
  master: MasterDataset;
  signal: AbortSignal;
  onProgress: (p: EngineProgress) => void;
  /** called once when reading is over and the engine combines (the run's `merge` phase) */
  onMerge: () => void;
  /**
   * Build the distinct measures' sketches too (LAMBDA_BATCH_SKETCHES, issue 16): one HyperLogLog
   * per group and distinct measure, registers identical to PFADD's. Absent or false: none.
   */
  sketches?: boolean;
}

export interface BatchEngineCounts {
  /** records (lines) read, valid or not */
  eventsRead: number;
  /** by InvalidReason */
  invalid: Record<string, number>;
  /** valid records whose id an earlier record already had */
  duplicates: number;
  /** of those, records whose raw line differs from the kept record's line */
  duplicatesDifferingPayload: number;
  /** valid, first-seen events folded into the views */
  eventsKept: number;
}

export interface BatchEngineResult {
  /** every group of every view at every granularity, in stored form (any order) */
  groups: readonly StoredGroup[];
  /**
   * When asked for (input.sketches): every non-empty sketch, any order. May be lazy (built while
   * the run file is written): iterate it once, before anything else reads the engine's state.
   */
  sketches?: Iterable<StoredSketch>;
  counts: BatchEngineCounts;
  /** threads that did the work */
  workers: number;
}

export interface BatchEngine {
  readonly name: BatchEngineName;
  compute(input: BatchEngineInput): Promise<BatchEngineResult>;
}
