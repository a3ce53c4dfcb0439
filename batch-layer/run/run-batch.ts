/**
 * One batch run (docs/design-decisions.md §5): recompute every view from the whole master dataset and publish the
 * result as a new SQLite file.
 *
 *   lease -> clean stale files -> snapshot (checkpoints, then files) -> map (workers, exact
 *   dedupe on this thread) -> merge partials -> write <runId>.sqlite.tmp, rename -> publish
 *   (catalog transaction: pointer, kept runs) -> delete pruned files -> release lease
 *
 * Any failure before the publish leaves the previous run served and its temp file is removed;
 * a kill leaves a temp file and a lease that the next run removes / takes over.
 */
import { join } from 'node:path';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';
import type { BatchEngine } from '../../shared/batch-engine.js';
import { isLambdaError, LambdaError } from '../../shared/errors.js';
import type { MasterDataset } from '../../shared/ports.js';
import type { ViewSet } from '../../shared/views/definition.js';
import type { BatchRunPorts } from '../../shared/batch/ports.js';
import { runFileName, type BatchRunRecord, type RunPhase, type RunProgress } from '../../shared/batch/run-record.js';
import { newRunId, removeRunFiles, removeStaleFiles, runsDir } from './run-files.js';
import { RunLease } from './run-lease.js';
import { viewsDocumentText } from './views-text.js';
import { decideCompleteness, runSnapshot, vouchedFiles, type PreviousRun, type TopicView } from './completeness.js';

const LOG_EVERY_MS = 5000;
/** How long a run waits for Kafka's answer about the topic's partitions before it falls back. */
const TOPIC_QUESTION_MS = 10_000;

/**
 * The topic's real partitions at the snapshot, from Kafka's metadata; when Kafka cannot answer in
 * time, the fallback (decideCompleteness: checkpointed partitions + the configured count), with why.
 */
async function askTopic(config: Pick<Config, 'kafka'>, describeTopic: BatchRunPorts['describeTopic']): Promise<TopicView> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${TOPIC_QUESTION_MS} ms`)), TOPIC_QUESTION_MS);
  });
  try {
    const t = await Promise.race([describeTopic(config.kafka.topic), timeout]);
    return { source: 'kafka', ...t };
  } catch (err) {
    return {
      source: 'fallback',
      reason: `Kafka (${config.kafka.brokers.join(',')}) could not be asked for the partitions of ${config.kafka.topic}: ${(err as Error).message}`,
    };
  } finally {
    clearTimeout(timer);
  }
}

export interface RunBatchDeps {
  config: Pick<Config, 'batch' | 'allowedLatenessMs' | 'kafka'>;
  views: ViewSet;
  master: MasterDataset;
  log: Logger;
  /** the catalog, the run-file writer, Kafka's topic metadata and the engine (cli/batch-wiring.ts builds them) */
  ports: BatchRunPorts;
  onProgress?: (runId: string, p: RunProgress) => void;
  /** aborts the run (e.g. shutdown); the previous run stays served */
  signal?: AbortSignal;
  /** the engine that computes the views; default: ports.createEngine(), the one `config.batch.engine` names */
  engine?: BatchEngine;
}

export async function runBatch(deps: RunBatchDeps): Promise<BatchRunRecord> {
  const { config, log } = deps;
  const batchDir = config.batch.dir;
  const startedAt = Date.now();
  const runId = newRunId(startedAt);
  const viewsJson = viewsDocumentText(deps.views);
  const progress: RunProgress = { phase: 'starting', filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0, eventsRead: 0, updatedAt: startedAt };
  const abort = new AbortController();
  const onAbort = () => abort.abort(deps.signal?.reason ?? new LambdaError('UNAVAILABLE', `batch run ${runId} aborted`));
  deps.signal?.addEventListener('abort', onAbort, { once: true });
  if (deps.signal?.aborted === true) onAbort();
  const { ports } = deps;
  const catalog = ports.openCatalog(batchDir);
  const lease = new RunLease(
    catalog,
    config.batch.leaseMs,
    () => progress,
    () => abort.abort(new LambdaError('CONFLICT', `batch run ${runId} lost its lease (another process took it over after it expired)`)),
    (err) => log.warn({ err, runId }, 'batch lease update failed (a renewal is retried; an unreleased lease expires)'),
  );
  const phase = (p: RunPhase) => {
    progress.phase = p;
    progress.updatedAt = Date.now();
    deps.onProgress?.(runId, { ...progress });
    lease.renew();
  };
  let written: string | null = null;
  let published = false;
  const logTimer = setInterval(() => log.info({ runId, progress }, 'batch run progress'), LOG_EVERY_MS);
  logTimer.unref();
  try {
    lease.acquire(runId, startedAt); // throws BATCH_RUNNING before anything else happens
    log.info({ runId, master: deps.master.describe() }, 'batch run started');
    const stale = removeStaleFiles(batchDir, catalog.runs());
    if (stale.length > 0) log.warn({ runId, removed: stale }, 'removed files left by an interrupted batch run');

    phase('snapshot');
    const t0 = Date.now();
    // Checkpoints BEFORE the listing: the archiver makes a file durable before it advances a
    // checkpoint, so every file behind A is in the listing. (Listing first could miss a file
    // archived in between while A already vouched for it.)
    const checkpoints = await deps.master.readCheckpoints();
    // Asked after the checkpoints: a partition Kafka does not list yet was created after them, so
    // none of its records arrived before the A they give (completeness.ts).
    const topicView = await askTopic(config, ports.describeTopic);
    const files = vouchedFiles(await deps.master.listFiles(), checkpoints);
    const previousId = catalog.pointer().runId;
    const previousRecord = previousId === null ? null : (catalog.run(previousId)?.record ?? null);
    const previous: PreviousRun | null =
      previousRecord === null
        ? null
        : { watermark: previousRecord.watermark, ...(previousRecord.completeness ? { completeness: previousRecord.completeness } : {}) };
    const decided = decideCompleteness({
      topic: config.kafka.topic,
      checkpoints,
      topicView,
      configuredPartitions: config.kafka.partitions,
      previous,
      allowedLatenessMs: config.allowedLatenessMs,
    });
    const A = decided.arrivalComplete;
    const W = decided.watermark;
    const { completeness } = decided;
    if (topicView.source === 'fallback')
      log.warn(
        { runId, reason: topicView.reason, partitions: completeness.partitions },
        'batch run: partitions from the checkpoints and LAMBDA_TOPIC_PARTITIONS',
      );
    if (completeness.note !== undefined) log.warn({ runId, completeness }, `batch run completeness: ${completeness.note}`);
    if (completeness.gaps.length > 0)
      log.warn({ runId, gaps: completeness.gaps }, 'the master dataset has archive gaps: offsets Kafka deleted before the archiver read them');
    progress.filesTotal = files.length;
    progress.bytesTotal = files.reduce((s, f) => s + f.sizeBytes, 0);

    phase('map');
    const t1 = Date.now();
    const marks = { mergeAt: 0 }; // set by the engine's onMerge
    const engine = deps.engine ?? (await ports.createEngine());
    const computed = await engine.compute({
      files,
      views: deps.views,
      master: deps.master,
      signal: abort.signal,
      onProgress: (p) => {
        Object.assign(progress, { filesDone: p.filesDone, bytesDone: p.bytesDone, eventsRead: p.recordsRead, updatedAt: Date.now() });
        deps.onProgress?.(runId, { ...progress });
      },
      onMerge: () => {
        marks.mergeAt = Date.now();
        phase('merge');
      },
      sketches: config.batch.sketches,
    });
    abort.signal.throwIfAborted();

    phase('write');
    const t3 = Date.now();
    const mergeStart = marks.mergeAt === 0 ? t3 : marks.mergeAt;
    const record: BatchRunRecord = {
      runId,
      watermark: W,
      arrivalComplete: A,
      startedAt,
      finishedAt: t3,
      counts: {
        files: files.length,
        eventsRead: computed.counts.eventsRead,
        invalid: computed.counts.invalid,
        duplicates: computed.counts.duplicates,
        groups: computed.groups.length,
        duplicatesDifferingPayload: computed.counts.duplicatesDifferingPayload,
        bytesRead: progress.bytesTotal,
        eventsKept: computed.counts.eventsKept,
      },
      timings: { snapshotMs: t1 - t0, mapMs: mergeStart - t1, mergeMs: t3 - mergeStart, writeMs: null, publishMs: null, totalMs: null },
      workers: computed.workers,
      engine: engine.name,
      viewsHash: deps.views.hash,
      viewsSource: deps.views.source,
      completeness,
      snapshot: runSnapshot(config.kafka.topic, checkpoints, t0),
    };
    const file = runFileName(runId);
    written = file;
    ports.writeRunFile(join(runsDir(batchDir), file), {
      views: deps.views,
      viewsJson,
      record,
      stored: computed.groups,
      ...(config.batch.sketches ? { sketches: computed.sketches ?? [], onSketches: (n: number) => (record.counts.sketches = n) } : {}),
    });
    abort.signal.throwIfAborted();

    phase('publish');
    const t4 = Date.now();
    record.timings.writeMs = t4 - t3;
    record.finishedAt = t4;
    const pruned = catalog.publish(lease.holder, { record, file, publishedAt: t4 }, config.batch.keepRuns);
    published = true;
    const t5 = Date.now();
    record.timings.publishMs = t5 - t4;
    record.timings.totalMs = t5 - startedAt;
    try {
      removeRunFiles(
        batchDir,
        pruned.map((p) => p.file),
      );
      catalog.updateRecord(record); // the final timings; the run is served since the publish
    } catch (err) {
      // The run IS published: housekeeping trouble must not report it as failed. The next run
      // removes unreferenced files anyway.
      log.warn({ err, runId }, 'batch run published, but pruning old files or storing final timings failed');
    }
    log.info({ runId, watermark: W, counts: record.counts, timings: record.timings, pruned: pruned.map((p) => p.record.runId) }, 'batch run published');
    return record;
  } catch (err) {
    const e = isLambdaError(err) ? err : new LambdaError('INTERNAL', `batch run ${runId} failed: ${(err as Error).message}`, { cause: err });
    if (written !== null && !published) removeRunFiles(batchDir, [written]);
    if (e.code !== 'BATCH_RUNNING') {
      log.error({ err: e, runId, progress }, 'batch run failed; the previous run stays published');
      try {
        catalog.recordFailure({ runId, at: Date.now(), code: e.code, message: e.message });
      } catch (recordErr) {
        log.warn({ err: recordErr, runId }, 'could not record the failure in the batch catalog');
      }
    }
    throw e;
  } finally {
    clearInterval(logTimer);
    deps.signal?.removeEventListener('abort', onAbort);
    lease.release();
    catalog.close();
  }
}
