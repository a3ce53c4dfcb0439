/**
 * The batch directory on disk:
 *   <batch dir>/catalog.sqlite          pointer, kept runs, lease (adapters/sqlite/catalog.ts)
 *   <batch dir>/runs/<runId>.sqlite     one immutable file per kept run
 *   <batch dir>/runs/<runId>.sqlite.tmp a run being written (or left by a crash)
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RUNS_DIR, type KeptRun } from '../../shared/batch/run-record.js';

export function runsDir(batchDir: string): string {
  return join(batchDir, RUNS_DIR);
}

/** Sortable and unique: `20240501T120000123Z-3fa1c2` (UTC start time, then randomness). */
export function newRunId(startedAt: number): string {
  const stamp = new Date(startedAt).toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/**
 * Deletes what a crashed or killed run left behind: temp files, and complete files the catalog
 * never published (a crash between rename and publish). Only called while holding the lease, so
 * no other run is writing here. Returns the names removed.
 */
export function removeStaleFiles(batchDir: string, kept: readonly KeptRun[]): string[] {
  const dir = runsDir(batchDir);
  mkdirSync(dir, { recursive: true });
  const keep = new Set(kept.map((k) => k.file));
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (keep.has(name)) continue;
    rmSync(join(dir, name), { force: true, recursive: true });
    removed.push(name);
  }
  return removed;
}

/** Run files (names in runs/) no longer kept; a reader that still has one open keeps reading it (POSIX unlink). */
export function removeRunFiles(batchDir: string, files: readonly string[]): void {
  for (const f of files) rmSync(join(runsDir(batchDir), f), { force: true });
}
