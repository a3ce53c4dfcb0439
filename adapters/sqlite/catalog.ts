/**
 * The batch catalog: `<batch dir>/catalog.sqlite`, a small SQLite database that is the single
 * source of truth for which run is served, which runs are kept, and who is running a batch now.
 *
 * - `pointer` (one row): the published run id and a generation number bumped whenever the
 *   published run or the kept runs' records change.
 *   Publishing is one transaction, so readers see the old run or the new one, never a mix; a
 *   reader checks the generation (one indexed read, at most once per bound) to know when to re-open.
 * - `runs`: the kept runs (record JSON), pruned to the newest K in the publish transaction.
 * - `lease` (at most one row): the run in flight, its holder (pid, host), expiry and progress.
 *   Taken with BEGIN IMMEDIATE, which SQLite serialises across processes, so two processes can
 *   never both believe they hold it.
 * - `last_failure` (one row): the last failed run, for status pages.
 *
 * WAL mode lets readers (the serving layer in another process) read while a run publishes.
 * Lease expiry compares wall clocks of the processes using the catalog: fine on one host (the
 * supported setup: SQLite on a shared network file system is not).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { LambdaError } from '../../shared/errors.js';
import type { RunCatalog } from '../../shared/batch/ports.js';
import { notePublish } from './publish-notice.js';
import type { BatchRunRecord, FailureInfo, KeptRun, LeaseClaim, LeaseInfo, RunProgress } from '../../shared/batch/run-record.js';

export const CATALOG_FILE = 'catalog.sqlite';

interface LeaseRow {
  holder: string;
  pid: number;
  hostname: string;
  run_id: string;
  started_at: number;
  expires_at: number;
  progress_json: string | null;
}

interface RunRow {
  run_id: string;
  file: string;
  published_at: number;
  record_json: string;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS pointer (id INTEGER PRIMARY KEY CHECK (id = 1), run_id TEXT, generation INTEGER NOT NULL);
  INSERT OR IGNORE INTO pointer (id, run_id, generation) VALUES (1, NULL, 0);
  CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, file TEXT NOT NULL, published_at INTEGER NOT NULL, record_json TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS lease (
    id INTEGER PRIMARY KEY CHECK (id = 1), holder TEXT NOT NULL, pid INTEGER NOT NULL, hostname TEXT NOT NULL,
    run_id TEXT NOT NULL, started_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, progress_json TEXT);
  CREATE TABLE IF NOT EXISTS last_failure (id INTEGER PRIMARY KEY CHECK (id = 1), run_id TEXT NOT NULL, at INTEGER NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL);
`;

function toLease(r: LeaseRow): LeaseInfo {
  const progress = r.progress_json === null ? null : (JSON.parse(r.progress_json) as RunProgress);
  return { holder: r.holder, pid: r.pid, hostname: r.hostname, runId: r.run_id, startedAt: r.started_at, expiresAt: r.expires_at, progress };
}

function toKept(r: RunRow): KeptRun {
  return { record: JSON.parse(r.record_json) as BatchRunRecord, file: r.file, publishedAt: r.published_at };
}

export class BatchCatalog implements RunCatalog {
  private readonly db: Database.Database;
  private readonly generationStmt: Database.Statement<[], { generation: number; run_id: string | null }>;
  /** absolute path of the catalog file: the key of this process's publish notices */
  readonly path: string;

  private constructor(db: Database.Database, path: string) {
    this.db = db;
    this.path = path;
    this.generationStmt = db.prepare('SELECT generation, run_id FROM pointer WHERE id = 1');
  }

  /** Opens (creating if needed) the catalog of `batchDir`. Both writers and readers call this. */
  static open(batchDir: string): BatchCatalog {
    try {
      mkdirSync(batchDir, { recursive: true });
      const path = resolve(join(batchDir, CATALOG_FILE));
      const db = new Database(path);
      // Another process may hold the write lock for a few ms (a publish, a heartbeat): wait, don't fail.
      db.pragma('busy_timeout = 5000');
      db.pragma('journal_mode = WAL');
      // FULL: a publish that returned is on disk; the catalog is tiny, so the fsync is cheap.
      db.pragma('synchronous = FULL');
      db.transaction(() => db.exec(SCHEMA)).immediate();
      return new BatchCatalog(db, path);
    } catch (err) {
      throw new LambdaError('STORAGE', `cannot open the batch catalog in ${batchDir}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Changes whenever a run is published (readers bound how often they look: SqliteBatchViewStore). */
  pointer(): { generation: number; runId: string | null } {
    const row = this.generationStmt.get();
    return { generation: row?.generation ?? 0, runId: row?.run_id ?? null };
  }

  /**
   * Takes the lease unless another holder has it and it is still valid. `holderGone` lets the
   * caller declare a live-looking lease abandoned (its process is known to be dead), so a killed
   * run does not block the next one for a whole lease period.
   */
  acquireLease(claim: LeaseClaim, now: number, holderGone: (lease: LeaseInfo) => boolean): { acquired: true } | { acquired: false; lease: LeaseInfo } {
    return this.db
      .transaction((): { acquired: true } | { acquired: false; lease: LeaseInfo } => {
        const row = this.db.prepare('SELECT * FROM lease WHERE id = 1').get() as LeaseRow | undefined;
        if (row !== undefined && row.expires_at > now && !holderGone(toLease(row))) return { acquired: false, lease: toLease(row) };
        this.db
          .prepare('INSERT OR REPLACE INTO lease (id, holder, pid, hostname, run_id, started_at, expires_at, progress_json) VALUES (1, ?, ?, ?, ?, ?, ?, NULL)')
          .run(claim.holder, claim.pid, claim.hostname, claim.runId, claim.startedAt, now + claim.leaseMs);
        return { acquired: true };
      })
      .immediate();
  }

  /** Extends the lease and stores progress. False when the lease is no longer ours (taken over). */
  heartbeat(holder: string, expiresAt: number, progress: RunProgress): boolean {
    const r = this.db
      .prepare('UPDATE lease SET expires_at = ?, progress_json = ? WHERE id = 1 AND holder = ?')
      .run(expiresAt, JSON.stringify(progress), holder);
    return r.changes === 1;
  }

  releaseLease(holder: string): void {
    this.db.prepare('DELETE FROM lease WHERE id = 1 AND holder = ?').run(holder);
  }

  /** The lease row, expired or not (callers compare expiresAt with their clock). */
  lease(): LeaseInfo | null {
    const row = this.db.prepare('SELECT * FROM lease WHERE id = 1').get() as LeaseRow | undefined;
    return row === undefined ? null : toLease(row);
  }

  /**
   * Makes `run` the served run, in one transaction that also checks the lease is still ours (a
   * run whose lease was taken over must not publish) and prunes the kept runs to `keepRuns`.
   * Returns the pruned runs; the caller deletes their files after the commit.
   */
  publish(holder: string, run: KeptRun, keepRuns: number): KeptRun[] {
    const pruned = this.db
      .transaction((): KeptRun[] => {
        const lease = this.db.prepare('SELECT holder FROM lease WHERE id = 1').get() as { holder: string } | undefined;
        if (lease?.holder !== holder) {
          throw new LambdaError('CONFLICT', `batch run ${run.record.runId} lost its lease before publishing; not published`);
        }
        this.db
          .prepare('INSERT INTO runs (run_id, file, published_at, record_json) VALUES (?, ?, ?, ?)')
          .run(run.record.runId, run.file, run.publishedAt, JSON.stringify(run.record));
        this.db.prepare('UPDATE pointer SET run_id = ?, generation = generation + 1 WHERE id = 1').run(run.record.runId);
        const pruned = (this.db.prepare('SELECT * FROM runs ORDER BY published_at DESC, run_id DESC LIMIT -1 OFFSET ?').all(keepRuns) as RunRow[]).map(toKept);
        const del = this.db.prepare('DELETE FROM runs WHERE run_id = ?');
        for (const p of pruned) del.run(p.record.runId);
        return pruned;
      })
      .immediate();
    notePublish(this.path);
    return pruned;
  }

  /** Pointer and kept runs read in one transaction (a consistent view, even while a run publishes). */
  snapshot(): { generation: number; runId: string | null; runs: KeptRun[] } {
    return this.db.transaction(() => ({ ...this.pointer(), runs: this.runs() }))();
  }

  /** Replaces the stored record of a kept run (its final timings, known only after the publish). */
  updateRecord(record: BatchRunRecord): void {
    this.db
      .transaction(() => {
        this.db.prepare('UPDATE runs SET record_json = ? WHERE run_id = ?').run(JSON.stringify(record), record.runId);
        // Readers cache the kept runs per generation: bump it so they see the new record.
        this.db.prepare('UPDATE pointer SET generation = generation + 1 WHERE id = 1').run();
      })
      .immediate();
    notePublish(this.path);
  }

  /** Kept runs, newest first. */
  runs(): KeptRun[] {
    return (this.db.prepare('SELECT * FROM runs ORDER BY published_at DESC, run_id DESC').all() as RunRow[]).map(toKept);
  }

  run(runId: string): KeptRun | null {
    const row = this.db.prepare('SELECT * FROM runs WHERE run_id = ?').get(runId) as RunRow | undefined;
    return row === undefined ? null : toKept(row);
  }

  recordFailure(f: FailureInfo): void {
    this.db
      .prepare('INSERT OR REPLACE INTO last_failure (id, run_id, at, code, message) VALUES (1, ?, ?, ?, ?)')
      .run(f.runId, f.at, f.code, f.message.slice(0, 2000));
  }

  lastFailure(): FailureInfo | null {
    const row = this.db.prepare('SELECT run_id, at, code, message FROM last_failure WHERE id = 1').get() as
      { run_id: string; at: number; code: string; message: string } | undefined;
    return row === undefined ? null : { runId: row.run_id, at: row.at, code: row.code, message: row.message };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
