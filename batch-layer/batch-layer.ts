/**
 * The batch layer as a Service: a cron schedule plus on-demand runs (`runNow`, used by the CLI and
 * the HTTP trigger), status for the serving layer, and the batch metrics. Runs never overlap:
 * the catalog lease refuses a second run in any process with BATCH_RUNNING.
 *
 * After a run is published, its watermark is also published for the speed layer when a publisher
 * is given (cli/batch-wiring.ts: to Redis), so the speed layer can count late arrivals (events
 * whose bucket is already behind W). That write is advisory: if Redis is down the run stays
 * published and the next run writes it again. The catalog, run files, Kafka and the engines come
 * through ports (shared/batch/ports.ts); this layer imports no adapter (docs/design-decisions.md, "Ports").
 */
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { Service } from '../platform/lifecycle.js';
import { isLambdaError, LambdaError } from '../shared/errors.js';
import type { MasterDataset } from '../shared/ports.js';
import type { ViewSet } from '../shared/views/definition.js';
import type { BatchRunPorts, BatchWatermarkPublisher, RunCatalog } from '../shared/batch/ports.js';
import type { BatchRunRecord, FailureInfo, RunProgress } from '../shared/batch/run-record.js';
import { runBatch } from './run/run-batch.js';
import { CRON_TIMEZONE, CronSchedule } from './schedule/cron-schedule.js';

export interface BatchLayerDeps {
  config: Config;
  views: ViewSet;
  master: MasterDataset;
  log: Logger;
  metrics: Metrics;
  /** the catalog, the run-file writer, Kafka's topic metadata and the engine (cli/batch-wiring.ts) */
  ports: BatchRunPorts;
  /** optional: publish each run's watermark for the speed layer (cli/batch-wiring.ts: to Redis) */
  publishWatermark?: BatchWatermarkPublisher | null;
  /** false: on-demand runs only (e.g. `lambda-arch batch run`); default true */
  schedule?: boolean;
  /** progress of this process's runs as they go (other processes: status() reads the catalog) */
  onProgress?: (runId: string, progress: RunProgress) => void;
}

export interface BatchStatus {
  /** the run in flight in ANY process (from the catalog lease), or null */
  running: { runId: string; startedAt: number; progress: RunProgress | null; pid: number; hostname: string; inThisProcess: boolean } | null;
  lastRun: BatchRunRecord | null;
  keptRuns: string[];
  lastFailure: FailureInfo | null;
  schedule: { cron: string; timezone: string; nextRunAt: number | null } | null;
}

export class BatchLayer implements Service {
  readonly name = 'batch-layer';
  private readonly schedule: CronSchedule | null;
  private readonly inFlight = new Map<symbol, { abort: AbortController; done: Promise<unknown> }>();
  private catalog: RunCatalog | null = null;
  private stopping = false;

  constructor(private readonly deps: BatchLayerDeps) {
    // Validated here, at start-up, so a bad expression fails the process with a clear message.
    this.schedule = deps.schedule === false ? null : new CronSchedule(deps.config.batch.cron, () => this.scheduledRun(), deps.log);
  }

  async start(): Promise<void> {
    this.stopping = false;
    const last = this.openCatalog().snapshot();
    const current = last.runs.find((r) => r.record.runId === last.runId);
    if (current !== undefined) this.deps.metrics.batch.watermark.set(current.record.watermark / 1000);
    this.schedule?.start();
  }

  /** Stops the schedule and aborts a run of this process (the previous run stays published). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.schedule?.stop();
    for (const r of this.inFlight.values()) r.abort.abort(new LambdaError('UNAVAILABLE', 'batch run aborted: the batch layer is stopping'));
    await Promise.allSettled([...this.inFlight.values()].map((r) => r.done));
    this.catalog?.close();
    this.catalog = null;
  }

  /** Runs a batch now. Rejects with BATCH_RUNNING (details: runId, startedAt, progress) if one is running anywhere. */
  async runNow(): Promise<BatchRunRecord> {
    if (this.stopping) throw new LambdaError('UNAVAILABLE', 'the batch layer is stopping');
    const abort = new AbortController();
    const key = Symbol('run');
    const done = this.execute(abort.signal);
    this.inFlight.set(key, { abort, done });
    try {
      return await done;
    } finally {
      this.inFlight.delete(key);
    }
  }

  status(now = Date.now()): BatchStatus {
    const catalog = this.openCatalog();
    const snap = catalog.snapshot();
    const lease = catalog.lease();
    const running =
      lease !== null && lease.expiresAt > now
        ? {
            runId: lease.runId,
            startedAt: lease.startedAt,
            progress: lease.progress,
            pid: lease.pid,
            hostname: lease.hostname,
            inThisProcess: lease.pid === process.pid,
          }
        : null;
    return {
      running,
      lastRun: snap.runs.find((r) => r.record.runId === snap.runId)?.record ?? null,
      keptRuns: snap.runs.map((r) => r.record.runId),
      lastFailure: catalog.lastFailure(),
      schedule: this.schedule === null ? null : { cron: this.deps.config.batch.cron, timezone: CRON_TIMEZONE, nextRunAt: this.schedule.nextRunAt() },
    };
  }

  private async execute(signal: AbortSignal): Promise<BatchRunRecord> {
    const { config, views, master, log, metrics, onProgress, ports } = this.deps;
    try {
      const record = await runBatch({ config, views, master, log, signal, onProgress, ports });
      this.recordSuccess(record);
      await this.publishToSpeedLayer(record.watermark);
      return record;
    } catch (err) {
      metrics.batch.runs.inc({ outcome: isLambdaError(err) && err.code === 'BATCH_RUNNING' ? 'busy' : 'failed' });
      throw err;
    }
  }

  private async scheduledRun(): Promise<void> {
    try {
      await this.runNow();
    } catch (err) {
      if (isLambdaError(err) && err.code === 'BATCH_RUNNING') {
        this.deps.log.info({ running: err.details }, 'scheduled batch run skipped: another run is in progress');
      } // other failures were logged (and recorded in the catalog) by the run itself
    }
  }

  private recordSuccess(r: BatchRunRecord): void {
    const m = this.deps.metrics;
    m.batch.runs.inc({ outcome: 'success' });
    m.batch.runSeconds.observe((r.timings.totalMs ?? r.finishedAt - r.startedAt) / 1000);
    m.batch.eventsRead.inc(r.counts.eventsRead);
    m.batch.duplicates.inc(r.counts.duplicates);
    m.batch.watermark.set(r.watermark / 1000);
    m.batch.lastSuccess.set(r.finishedAt / 1000);
    for (const [reason, n] of Object.entries(r.counts.invalid)) m.invalidEvents.inc({ layer: 'batch', reason }, n);
  }

  private async publishToSpeedLayer(watermark: number): Promise<void> {
    const publish = this.deps.publishWatermark;
    if (publish === undefined || publish === null) return;
    try {
      await publish(watermark);
    } catch (err) {
      this.deps.log.warn({ err, watermark }, 'could not publish the batch watermark to Redis; the run is published, the next run retries');
    }
  }

  private openCatalog(): RunCatalog {
    this.catalog ??= this.deps.ports.openCatalog(this.deps.config.batch.dir);
    return this.catalog;
  }
}
