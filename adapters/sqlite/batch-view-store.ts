/**
 * BatchViewStore over the batch directory (read side; the serving layer runs it in its own
 * process). Calls first look at the catalog's pointer generation (one indexed row); when a new
 * run was published it drops the readers of runs that are no longer current or kept, so the next
 * query opens the new file. Run files are immutable, so an open reader never sees a change.
 *
 * How often it looks (issue 16): a publish by this process is seen by the very next call (the
 * in-process notice, publish-notice.ts); a publish by another process within `catalogCheckMs`
 * (default 50 ms). Reading the row on every call cost a tenth of the CPU of a cached answer in
 * the bench, several times per request, for a change that comes once per batch run.
 *
 * A snapshot (one answer) holds the readers it uses: a reader of a run pruned meanwhile is closed
 * only when the last snapshot holding it is released. The batch layer deletes a pruned run's file
 * after its publish, and an open SQLite connection keeps reading the unlinked file (POSIX), so an
 * answer that began on a run finishes on it (docs/design-decisions.md, Serving layer).
 */
import { join } from 'node:path';
import { LambdaError } from '../../shared/errors.js';
import type { BatchSnapshot, BatchViewStore, BucketRow, SeriesQuery, SketchRow } from '../../shared/ports.js';
import { BatchCatalog } from './catalog.js';
import { publishesSeen } from './publish-notice.js';
import { RunFileReader } from './run-file-reader.js';
import { RUNS_DIR, type BatchRunRecord, type FailureInfo, type KeptRun, type LeaseInfo } from '../../shared/batch/run-record.js';

/** How stale a reader's view of the catalog may be for publishes by other processes. */
export const DEFAULT_CATALOG_CHECK_MS = 50;

export interface BatchViewStoreOptions {
  /** look at the catalog's generation at most this often (0: on every call) */
  catalogCheckMs?: number;
  /** the clock the bound is measured with (tests move it) */
  now?: () => number;
}

export class SqliteBatchViewStore implements BatchViewStore {
  private readonly catalog: BatchCatalog;
  private readonly runsDir: string;
  private generation = -1;
  private readonly checkMs: number;
  private readonly now: () => number;
  /** when the generation was last read, and this process's publish count then */
  private checkedAt = -Infinity;
  private noticesAt = -1;
  private current: string | null = null;
  private kept: KeptRun[] = [];
  private readonly readers = new Map<string, RunFileReader>();
  /** how many unreleased snapshots hold each reader */
  private readonly holds = new Map<RunFileReader, number>();

  constructor(batchDir: string, opts: BatchViewStoreOptions = {}) {
    this.catalog = BatchCatalog.open(batchDir);
    this.runsDir = join(batchDir, RUNS_DIR);
    this.checkMs = opts.catalogCheckMs ?? DEFAULT_CATALOG_CHECK_MS;
    this.now = opts.now ?? Date.now;
  }

  latestRun(): BatchRunRecord | null {
    this.refresh();
    return this.kept.find((k) => k.record.runId === this.current)?.record ?? null;
  }

  runs(): BatchRunRecord[] {
    this.refresh();
    return this.kept.map((k) => k.record);
  }

  /** From the published run, or from the kept run `runId`. Throws NOT_FOUND for an unknown run or view. */
  series(q: SeriesQuery, runId?: string): BucketRow[] {
    return this.openRun(runId).series(q);
  }

  /** Sketches of a distinct measure (issue 16) from the published or a kept run; null when it keeps none. */
  sketches(q: SeriesQuery, measure: string, runId?: string): SketchRow[] | null {
    return this.openRun(runId).sketches(q, measure);
  }

  /**
   * A reader of one kept run (the published one when runId is omitted), e.g. for batch-to-batch
   * drift. It stays valid until the store is closed or the run is pruned; do not close it yourself.
   */
  openRun(runId?: string): RunFileReader {
    this.refresh();
    const id = runId ?? this.current;
    if (id === null) throw new LambdaError('NOT_FOUND', 'no batch run has been published yet');
    const existing = this.readers.get(id);
    if (existing !== undefined) return existing;
    const kept = this.kept.find((k) => k.record.runId === id);
    if (kept === undefined) {
      throw new LambdaError('NOT_FOUND', `batch run "${id}" is not kept (kept: ${this.kept.map((k) => k.record.runId).join(', ') || 'none'})`, {
        details: { runId: id },
      });
    }
    let reader: RunFileReader;
    try {
      reader = RunFileReader.open(join(this.runsDir, kept.file), kept.record);
    } catch (err) {
      // The run may have been pruned between our catalog read and the open: a fresh look decides.
      this.generation = -1;
      this.refresh(true);
      if (!this.kept.some((k) => k.record.runId === id)) {
        throw new LambdaError('NOT_FOUND', `batch run "${id}" was pruned while opening it`, { details: { runId: id } });
      }
      throw new LambdaError('STORAGE', `cannot open batch run "${id}": ${(err as Error).message}`, { cause: err, retriable: true });
    }
    this.readers.set(id, reader);
    return reader;
  }

  /**
   * The published run and the kept runs as of now, with the newest `hold` kept runs (the published
   * one first) opened and held until release(). A run pruned before it could be opened is left
   * out of the held ones; reading it then throws NOT_FOUND, which the caller reports.
   */
  snapshot(opts: { hold?: number } = {}): BatchSnapshot {
    this.refresh();
    const kept = this.kept.map((k) => k.record);
    const run = kept.find((r) => r.runId === this.current) ?? null;
    const held = new Map<string, RunFileReader>();
    const hold = (id: string): RunFileReader => {
      const reader = this.openRun(id);
      if (!held.has(id)) {
        held.set(id, reader);
        this.holds.set(reader, (this.holds.get(reader) ?? 0) + 1);
      }
      return reader;
    };
    const order = run === null ? kept : [run, ...kept.filter((r) => r !== run)];
    for (const r of order.slice(0, opts.hold ?? 1)) {
      try {
        hold(r.runId);
      } catch (err) {
        if (!(err instanceof LambdaError && err.code === 'NOT_FOUND')) throw err;
      }
    }
    let released = false;
    const reader = (runId: string | undefined): RunFileReader => {
      if (released) throw new LambdaError('INTERNAL', 'batch snapshot read after release');
      const id = runId ?? run?.runId;
      if (id === undefined) throw new LambdaError('NOT_FOUND', 'no batch run had been published when this answer began');
      return held.get(id) ?? hold(id);
    };
    return {
      run,
      runs: kept,
      series: (q, runId) => reader(runId).series(q),
      sketches: (q, measure, runId) => reader(runId).sketches(q, measure),
      release: () => {
        if (released) return;
        released = true;
        for (const reader of held.values()) this.unhold(reader);
        held.clear();
      },
    };
  }

  /** The run in flight (any process), with its progress, or null. */
  runningRun(now = Date.now()): LeaseInfo | null {
    const lease = this.catalog.lease();
    return lease !== null && lease.expiresAt > now ? lease : null;
  }

  lastFailure(): FailureInfo | null {
    return this.catalog.lastFailure();
  }

  close(): void {
    for (const r of this.readers.values()) r.close();
    for (const r of this.holds.keys()) r.close();
    this.readers.clear();
    this.holds.clear();
    this.catalog.close();
  }

  private unhold(reader: RunFileReader): void {
    const n = (this.holds.get(reader) ?? 1) - 1;
    if (n > 0) {
      this.holds.set(reader, n);
      return;
    }
    this.holds.delete(reader);
    // Still a current reader (its run is kept): it stays open for later queries.
    if (this.readers.get(reader.record.runId) !== reader) reader.close();
  }

  private refresh(force = false): void {
    const notices = publishesSeen(this.catalog.path);
    const now = this.now();
    if (!force && notices === this.noticesAt && now - this.checkedAt < this.checkMs) return;
    this.checkedAt = now;
    this.noticesAt = notices;
    if (this.catalog.pointer().generation === this.generation) return;
    const snap = this.catalog.snapshot();
    this.kept = snap.runs;
    this.current = snap.runId;
    this.generation = snap.generation;
    const keptIds = new Set(this.kept.map((k) => k.record.runId));
    for (const [id, reader] of this.readers) {
      if (!keptIds.has(id)) {
        // A snapshot still reading it closes it on release (unhold).
        if (!this.holds.has(reader)) reader.close();
        this.readers.delete(id);
      }
    }
  }
}
