/**
 * Everything the serving layer needs, injected by the CLI. The serving layer reaches the other
 * layers only through these narrow interfaces (ports), never by importing them.
 */
import type { Config } from '../platform/config.js';
import type { SpeedControl, SpeedControlChange } from '../shared/speed/control.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { QueryContext } from './query/context.js';
import type { RunningBatch } from './http/schemas/runs.js';
import type { KappaRequest, KappaState } from './http/schemas/kappa.js';

export interface HealthCheck {
  name: string;
  /** resolves true when the dependency answers; never throws */
  check(): Promise<boolean>;
}

export interface BatchControl {
  /** starts a run now; rejects with LambdaError BATCH_RUNNING when one holds the lease */
  trigger(): Promise<{ runId: string | null }>;
  /** the run in progress (any process), or null */
  progress(): Promise<RunningBatch | null>;
}

/** The Kappa rebuild (docs/design-decisions.md, "Lambda vs Kappa"), run where the CLI wires it. */
export interface KappaControl {
  /** starts a rebuild; rejects with LambdaError CONFLICT while one runs, UNAVAILABLE before the first batch run */
  start(req: KappaRequest): Promise<{ rebuildId: string }>;
  /** the running rebuild's progress, or the last one's result */
  state(): KappaState;
}

export interface IngestSink {
  /**
   * resolves when Kafka acknowledged every record (idempotent producer, acks=all); a null key
   * spreads records over the partitions, and `partition` overrides the key's (only the admin's
   * raw ingest sends either)
   */
  send(records: { key: string | null; value: string; partition?: number }[]): Promise<void>;
}

/** The speed layer's runtime control (issue 20; shared/speed/control.ts): every speed instance obeys what is set here. */
export interface SpeedControlPort {
  read(): Promise<SpeedControl>;
  /** applies the change and returns the control after it, with its new version */
  change(change: SpeedControlChange): Promise<SpeedControl>;
}

/** The dead-letter topic as Kafka holds it now. */
export interface DeadLetterCount {
  topic: string;
  /** records the topic holds now (end minus log start, over its partitions), every layer's letters together */
  records: number;
}

export interface MasterSummary {
  describe: string;
  files: number;
  bytes: number;
}

export interface ServingDeps extends QueryContext {
  config: Config;
  log: Logger;
  metrics: Metrics;
  health: HealthCheck[];
  ingest: IngestSink;
  batchControl: BatchControl | null;
  master: () => Promise<MasterSummary>;
  /** absent or null: this process runs no Kappa rebuild */
  kappa?: KappaControl | null;
  /** absent: the admin's speed routes answer 503 */
  speedControl?: SpeedControlPort;
  /** absent: the status has no dead-letter count */
  deadLetters?: () => Promise<DeadLetterCount>;
}
