/**
 * Writes one batch run file: a NEW SQLite database, never an update of a served one (docs/design-decisions.md §5).
 * The file is built under `<name>.tmp` with no journal (a crash leaves a temp file the next run
 * deletes), fsynced, then renamed to its final name. Making it current is the catalog's job; until
 * then no reader knows the file exists.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { LambdaError } from '../../shared/errors.js';
import type { GroupState } from '../../shared/aggregate/aggregate.js';
import { toStoredGroups, type StoredSketch } from '../../shared/aggregate/stored-group.js';
import type { ViewSet } from '../../shared/views/definition.js';
import { isSketched, viewCells } from '../../shared/aggregate/measure-kinds.js';
import {
  createRunIndexes,
  createRunSchema,
  dimensionColumns,
  measureColumn,
  RUN_FILE_FORMAT,
  SKETCH_FORMAT,
  sketchedViews,
  sketchTable,
  viewTable,
} from './run-schema.js';
import { TEMP_SUFFIX } from '../../shared/batch/run-record.js';
import type { RunFileContent } from '../../shared/batch/ports.js';
import { BatchedInsert, type SqlValue } from './batched-insert.js';

/** Writes `finalPath` atomically (temp + fsync + rename + dir fsync). Returns the view rows written. */
export function writeRunFile(finalPath: string, content: RunFileContent): number {
  const tmpPath = `${finalPath}${TEMP_SUFFIX}`;
  rmSync(tmpPath, { force: true });
  const sketched = { sketches: content.sketches !== undefined };
  let rows = 0;
  try {
    const db = new Database(tmpPath);
    try {
      // A temp file nobody reads until it is complete needs neither a journal nor per-commit syncs.
      db.pragma('journal_mode = OFF');
      db.pragma('synchronous = OFF');
      createRunSchema(db, content.views, sketched);
      db.transaction(() => {
        rows = insertAll(db, content);
        if (content.sketches !== undefined) content.onSketches?.(insertSketches(db, content.views, content.sketches));
      })();
      createRunIndexes(db, content.views, sketched);
    } finally {
      db.close();
    }
    fsyncPath(tmpPath);
    renameSync(tmpPath, finalPath);
    fsyncPath(dirname(finalPath));
  } catch (err) {
    rmSync(tmpPath, { force: true });
    throw new LambdaError('STORAGE', `cannot write batch run file ${finalPath}: ${(err as Error).message}`, { cause: err });
  }
  return rows;
}

function insertAll(db: Database.Database, c: RunFileContent): number {
  const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
  meta.run('format', String(RUN_FILE_FORMAT));
  meta.run('views_json', c.viewsJson);
  meta.run('views_hash', c.views.hash);
  meta.run('views_source', c.views.source);
  if (c.sketches !== undefined) meta.run('sketches', SKETCH_FORMAT);
  const r = c.record;
  db.prepare('INSERT INTO run VALUES (?, ?, ?, ?, ?, ?)').run(r.runId, r.startedAt, r.finishedAt, r.arrivalComplete, r.watermark, JSON.stringify(r));
  const invalid = db.prepare('INSERT INTO invalid (reason, count) VALUES (?, ?)');
  for (const [reason, n] of Object.entries(r.counts.invalid)) invalid.run(reason, n);

  const inserts = new Map<string, { rows: BatchedInsert; measures: string[] }>();
  for (const view of c.views.views) {
    const measures = viewCells(view).map((c) => c.name);
    const cols = ['granularity', 'bucket_start', ...dimensionColumns(view), ...measures.map(measureColumn)];
    inserts.set(view.name, { rows: new BatchedInsert(db, viewTable(view), cols), measures });
  }
  let rows = 0;
  const values: (string | number | null)[] = [];
  if ((c.groups === undefined) === (c.stored === undefined)) throw new LambdaError('INTERNAL', 'a run file takes either groups or stored groups');
  const groups = c.stored ?? toStoredGroups(c.groups as Iterable<GroupState>);
  for (const g of groups) {
    const ins = inserts.get(g.view);
    if (ins === undefined) throw new LambdaError('INTERNAL', `aggregate has a group of unknown view "${g.view}"`);
    values.length = 0;
    values.push(g.granularity, g.bucketStart, ...g.dims);
    for (const m of ins.measures) {
      const v = g.values[m];
      if (v === undefined) throw new LambdaError('INTERNAL', `group of view "${g.view}" lacks cell "${m}"`);
      values.push(v);
    }
    ins.rows.add(values);
    rows++;
  }
  for (const ins of inserts.values()) ins.rows.flush();
  return rows;
}

function insertSketches(db: Database.Database, views: ViewSet, sketches: Iterable<StoredSketch>): number {
  const inserts = new Map<string, { rows: BatchedInsert; distinct: Set<string> }>();
  for (const view of sketchedViews(views)) {
    const cols = ['measure', 'granularity', 'bucket_start', ...dimensionColumns(view), 'hll'];
    const distinct = new Set(
      Object.entries(view.measures)
        .filter(([, m]) => isSketched(m))
        .map(([name]) => name),
    );
    inserts.set(view.name, { rows: new BatchedInsert(db, sketchTable(view), cols), distinct });
  }
  let n = 0;
  const values: SqlValue[] = [];
  for (const s of sketches) {
    const ins = inserts.get(s.view);
    if (ins === undefined || !ins.distinct.has(s.measure)) {
      throw new LambdaError('INTERNAL', `a sketch of "${s.view}"."${s.measure}", which is not a distinct measure of a view`);
    }
    values.length = 0;
    values.push(s.measure, s.granularity, s.bucketStart, ...s.dims, s.sketch);
    ins.rows.add(values);
    n++;
  }
  for (const ins of inserts.values()) ins.rows.flush();
  return n;
}

/** Data and directory entries reach the disk before the rename / the publish that relies on them. */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
