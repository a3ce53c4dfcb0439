/**
 * Real batch runs for serving tests without the batch layer's master dataset: each run is a real
 * SQLite run file (adapters/sqlite/run-file-writer.ts) folded from the given events, published in
 * the real catalog with pruning, and the pruned files deleted afterwards, as the batch layer does.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BatchCatalog } from '../../adapters/sqlite/catalog.js';
import { writeRunFile } from '../../adapters/sqlite/run-file-writer.js';
import { runFileName, RUNS_DIR, type BatchRunRecord } from '../../shared/batch/run-record.js';
import { Aggregate } from '../../shared/aggregate/aggregate.js';
import { groupSketches } from '../../shared/aggregate/sketches.js';
import { validDeduped } from '../../shared/reference-fold.js';
import type { BatchViewStore } from '../../shared/ports.js';
import type { ViewSet } from '../../shared/views/definition.js';

export class RunPublisher {
  private readonly catalog: BatchCatalog;
  private published = 0;

  constructor(
    private readonly batchDir: string,
    private readonly views: ViewSet,
    private readonly viewsJson: string,
  ) {
    this.catalog = BatchCatalog.open(batchDir);
    mkdirSync(join(batchDir, RUNS_DIR), { recursive: true });
  }

  /** Writes and publishes run `runId` with watermark W over `events`; returns the pruned run ids. */
  publish(runId: string, watermark: number, events: readonly object[], keepRuns: number): string[] {
    const agg = new Aggregate();
    for (const e of validDeduped(events, this.views)) agg.add(e, this.views);
    const seq = ++this.published;
    const record: BatchRunRecord = {
      runId,
      watermark,
      arrivalComplete: watermark,
      startedAt: seq,
      finishedAt: seq,
      counts: {
        files: 1,
        eventsRead: events.length,
        invalid: {},
        duplicates: 0,
        groups: agg.size,
        duplicatesDifferingPayload: 0,
        bytesRead: 0,
        eventsKept: events.length,
      },
      timings: { snapshotMs: 0, mapMs: 0, mergeMs: 0, writeMs: 0, publishMs: 0, totalMs: 0 },
      workers: 1,
      viewsHash: this.views.hash,
      viewsSource: this.views.source,
    };
    const file = runFileName(runId);
    // With the distinct measures' sketches, as a batch run writes them by default (issue 16).
    writeRunFile(join(this.batchDir, RUNS_DIR, file), {
      views: this.views,
      viewsJson: this.viewsJson,
      record,
      groups: agg.groups(),
      sketches: groupSketches(agg.groups()),
    });
    const holder = `test-${runId}`;
    const lease = this.catalog.acquireLease({ holder, pid: process.pid, hostname: 'test', runId, startedAt: seq, leaseMs: 60_000 }, Date.now(), () => true);
    if (!lease.acquired) throw new Error('test publisher could not take the lease');
    const pruned = this.catalog.publish(holder, { record, file, publishedAt: seq }, keepRuns);
    this.catalog.releaseLease(holder);
    for (const p of pruned) rmSync(join(this.batchDir, RUNS_DIR, p.file), { force: true });
    return pruned.map((p) => p.record.runId);
  }

  close(): void {
    this.catalog.close();
  }
}

/**
 * The store as the serving layer sees it through the port, with `hook` run once right after the
 * answer's first read of the catalog (the W read): the moment a concurrent publish hurts most.
 * `withSnapshot: false` hides the store's snapshot(), as a store without one would be.
 */
export function afterFirstRead(
  store: BatchViewStore & Required<Pick<BatchViewStore, 'snapshot'>>,
  hook: () => void,
  opts: { withSnapshot?: boolean } = {},
): BatchViewStore {
  let fired = false;
  const after = <T>(value: T): T => {
    if (!fired) {
      fired = true;
      hook();
    }
    return value;
  };
  const port: BatchViewStore = {
    latestRun: () => after(store.latestRun()),
    runs: () => after(store.runs()),
    series: (q, runId) => store.series(q, runId),
    ...(store.sketches ? { sketches: store.sketches.bind(store) } : {}),
  };
  if (opts.withSnapshot !== false) port.snapshot = (o) => after(store.snapshot(o));
  return port;
}
