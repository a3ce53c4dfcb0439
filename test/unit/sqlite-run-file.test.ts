/** A run file round trip on real SQLite: what the writer stores, the reader serves, unscaled and exact. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { writeRunFile } from '../../adapters/sqlite/run-file-writer.js';
import { RunFileReader } from '../../adapters/sqlite/run-file-reader.js';
import { dimensionColumns } from '../../adapters/sqlite/run-schema.js';
import type { BatchRunRecord } from '../../shared/batch/run-record.js';
import { Aggregate, groupKey } from '../../shared/aggregate/aggregate.js';
import { validDeduped, referenceFold } from '../../shared/reference-fold.js';
import { loadViews } from '../../shared/views/load.js';
import { rollUp } from '../../serving-layer/query/rollup.js';
import { groupSketches } from '../../shared/aggregate/sketches.js';
import { SketchUnion, sketchOfMembers } from '../../shared/hll/sketch.js';

const VIEWS_JSON = JSON.stringify({
  views: [
    {
      name: 'tricky',
      dimensions: ['order', 'Url', 'url'],
      measures: {
        n: { type: 'count' },
        who: { type: 'distinct', field: 'user' },
        lo: { type: 'min', field: 'amount', decimals: 3 },
        hi: { type: 'max', field: 'amount', decimals: 3 },
        sum: { type: 'sum', field: 'amount', decimals: 3 },
      },
      granularities: ['minute', 'day'],
    },
  ],
});
const views = loadViews(VIEWS_JSON, 'test views');
const T = Date.UTC(2024, 0, 2, 3, 4, 5);
const events = [
  { id: '1', ts: T, order: 'a"b\nc', Url: 'X', url: 'x', user: 'u1', amount: -1.5 },
  { id: '2', ts: T + 1000, order: 'a"b\nc', Url: 'X', url: 'x', user: 7, amount: 2.125 },
  { id: '3', ts: T + 60_000, order: null, Url: 'X', user: '7' },
  { id: '4', ts: T + 86_400_000, order: 5, url: 'null', amount: 0.001 },
  { id: '1', ts: T, order: 'dup' },
];
const record: BatchRunRecord = {
  runId: 'r1',
  watermark: 60_000,
  arrivalComplete: 120_000,
  startedAt: 1,
  finishedAt: 2,
  counts: { files: 1, eventsRead: 5, invalid: { not_json: 2 }, duplicates: 1, groups: 0, duplicatesDifferingPayload: 1, bytesRead: 10, eventsKept: 4 },
  timings: { snapshotMs: 1, mapMs: 1, mergeMs: 1, writeMs: null, publishMs: null, totalMs: null },
  workers: 1,
  viewsHash: views.hash,
  viewsSource: views.source,
};

describe('batch run file', () => {
  let dir: string;
  let reader: RunFileReader | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'runfile-'));
  });
  afterEach(() => {
    reader?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps case-colliding dimensions and SQL keywords apart as columns', () => {
    expect(dimensionColumns(views.views[0]!)).toEqual(['dim_order', 'dim1_Url', 'dim2_url']);
  });

  it('round-trips every group exactly, with nulls, odd strings and scaled decimals', () => {
    const agg = new Aggregate();
    for (const e of validDeduped(events, views)) agg.add(e, views);
    const path = join(dir, 'r1.sqlite');
    const rows = writeRunFile(path, {
      views,
      viewsJson: VIEWS_JSON,
      record: { ...record, counts: { ...record.counts, groups: agg.size } },
      groups: agg.groups(),
    });
    expect(rows).toBe(agg.size);
    expect(existsSync(`${path}.tmp`)).toBe(false);

    reader = RunFileReader.open(path, record);
    expect(reader.views.hash).toBe(views.hash);
    expect(reader.invalidCounts()).toEqual({ not_json: 2 });
    const truth = referenceFold(events, views);
    let seen = 0;
    for (const g of ['minute', 'day'] as const) {
      for (const row of reader.series({ view: 'tricky', granularity: g, from: 0, to: T + 2 * 86_400_000 })) {
        expect(row.values).toEqual(truth.get(groupKey('tricky', g, row.bucketStart, row.dims)));
        seen++;
      }
    }
    expect(seen).toBe(truth.size);
    const minute = reader.series({ view: 'tricky', granularity: 'minute', from: T, to: T + 1 });
    // Rows carry their stored cells (scaled integers) beside the values.
    expect(minute[0]?.cells).toEqual({ n: 2, who: 2, lo: -1500, hi: 2125, sum: 625 });
    expect(withoutCells(minute)).toEqual([
      { view: 'tricky', granularity: 'minute', bucketStart: T - 5000, dims: ['a"b\nc', 'X', 'x'], values: { n: 2, who: 2, lo: -1.5, hi: 2.125, sum: 0.625 } },
    ]);
    // Filters: equality, the missing-value group, and a value that merely looks like null.
    expect(reader.series({ view: 'tricky', granularity: 'day', from: 0, to: T * 2, filter: { order: null } }).map((r) => r.dims)).toEqual([[null, 'X', null]]);
    expect(reader.series({ view: 'tricky', granularity: 'minute', from: 0, to: T * 2, filter: { order: null } })[0]?.values).toEqual({
      n: 1,
      who: 1,
      lo: null,
      hi: null,
      sum: 0,
    });
    expect(reader.series({ view: 'tricky', granularity: 'day', from: 0, to: T * 2, filter: { url: 'null' } }).map((r) => r.dims)).toEqual([
      ['5', null, 'null'],
    ]);
    // Range: buckets with start in [floor_g(from), to).
    const nextDay = Date.UTC(2024, 0, 3);
    expect(reader.series({ view: 'tricky', granularity: 'day', from: T, to: nextDay })).toHaveLength(2);
    expect(reader.series({ view: 'tricky', granularity: 'day', from: T, to: nextDay + 1 })).toHaveLength(3);
    expect(reader.series({ view: 'tricky', granularity: 'day', from: nextDay - 1, to: nextDay + 1 })).toHaveLength(3);
    expect(reader.series({ view: 'tricky', granularity: 'day', from: nextDay, to: nextDay + 1 })).toHaveLength(1);
    expect(reader.series({ view: 'tricky', granularity: 'day', from: T, to: T })).toEqual([]);
  });

  it('writes every group and sketch when there are more than one insert batch of them (rows go in 16 at a time)', () => {
    // 37 minutes x 2 orders: 74 minute groups and 2 day groups, not a multiple of the batch.
    const many = Array.from({ length: 37 * 2 * 3 }, (_, i) => ({
      id: `m${i}`,
      ts: T + Math.floor(i / 6) * 60_000,
      order: `o${i % 2}`,
      user: `u${i % 5}`,
      amount: i,
    }));
    const agg = new Aggregate();
    for (const e of validDeduped(many, views)) agg.add(e, views);
    const sketches = [...groupSketches(agg.groups())];
    const path = join(dir, 'many.sqlite');
    let written = -1;
    expect(writeRunFile(path, { views, viewsJson: VIEWS_JSON, record, groups: agg.groups(), sketches, onSketches: (n) => (written = n) })).toBe(agg.size);
    expect(agg.size).toBe(76);
    expect(written).toBe(sketches.length);
    reader = RunFileReader.open(path, record);
    const truth = referenceFold(many, views);
    let seen = 0;
    for (const g of ['minute', 'day'] as const) {
      const q = { view: 'tricky', granularity: g, from: 0, to: T + 2 * 86_400_000 };
      for (const row of reader.series(q)) {
        expect(row.values).toEqual(truth.get(groupKey('tricky', g, row.bucketStart, row.dims)));
        seen++;
      }
      const stored = reader.sketches(q, 'who')!;
      const wanted = sketches.filter((k) => k.granularity === g);
      expect(stored).toHaveLength(wanted.length);
      for (const k of wanted) {
        const row = stored.find((r) => r.bucketStart === k.bucketStart && JSON.stringify(r.dims) === JSON.stringify(k.dims));
        expect(row && Buffer.from(row.sketch).equals(Buffer.from(k.sketch)), `${g} ${k.bucketStart} ${JSON.stringify(k.dims)}`).toBe(true);
      }
    }
    expect(seen).toBe(truth.size);
  });

  it('rolls dropped dimensions up in SQL exactly as rolling up every stored row does', () => {
    const agg = new Aggregate();
    for (const e of validDeduped(events, views)) agg.add(e, views);
    const path = join(dir, 'r1.sqlite');
    writeRunFile(path, { views, viewsJson: VIEWS_JSON, record, groups: agg.groups() });
    reader = RunFileReader.open(path, record);
    const view = views.views[0]!;
    for (const g of ['minute', 'day'] as const) {
      for (const keep of [[], ['order'], ['url', 'Url']]) {
        const q = { view: 'tricky', granularity: g, from: 0, to: T + 2 * 86_400_000 };
        expect(rollUp(view, reader.series({ ...q, keep }), keep)).toEqual(rollUp(view, reader.series(q), keep));
      }
    }
    // Dropped dimensions read null; a kept group of one stored row keeps its exact distinct count...
    const minute = reader.series({ view: 'tricky', granularity: 'minute', from: T, to: T + 60_000, keep: [] });
    expect(withoutCells(minute)).toEqual([
      { view: 'tricky', granularity: 'minute', bucketStart: T - 5000, dims: [null, null, null], values: { n: 2, who: 2, lo: -1.5, hi: 2.125, sum: 0.625 } },
      { view: 'tricky', granularity: 'minute', bucketStart: T - 5000 + 60_000, dims: [null, null, null], values: { n: 1, who: 1, lo: null, hi: null, sum: 0 } },
    ]);
    // ...and one of several says how many (parts) and has no distinct count (they cannot be added).
    const day = reader.series({ view: 'tricky', granularity: 'day', from: 0, to: T + 1, keep: ['Url'] });
    expect(withoutCells(day)).toEqual([
      {
        view: 'tricky',
        granularity: 'day',
        bucketStart: Date.UTC(2024, 0, 2),
        dims: [null, 'X', null],
        values: { n: 3, who: null, lo: -1.5, hi: 2.125, sum: 0.625 },
        parts: 2,
      },
    ]);
  });

  it("keeps the distinct measure's sketches beside the exact counts when given them, and says when it has none (issue 16)", () => {
    const agg = new Aggregate();
    for (const e of validDeduped(events, views)) agg.add(e, views);
    const path = join(dir, 'r1.sqlite');
    let written = -1;
    writeRunFile(path, { views, viewsJson: VIEWS_JSON, record, groups: agg.groups(), sketches: groupSketches(agg.groups()), onSketches: (n) => (written = n) });
    reader = RunFileReader.open(path, record);
    expect(reader.hasSketches).toBe(true);
    // Every group with a member has one sketch, and it holds exactly its members.
    const q = { view: 'tricky', granularity: 'day' as const, from: 0, to: T + 2 * 86_400_000 };
    const day = reader.sketches(q, 'who')!;
    expect(day.map((r) => [r.bucketStart, r.dims])).toEqual([
      [Date.UTC(2024, 0, 2), [null, 'X', null]],
      [Date.UTC(2024, 0, 2), ['a"b\nc', 'X', 'x']],
    ]);
    expect(Buffer.from(day[1]!.sketch).equals(Buffer.from(sketchOfMembers(['u1', '7'])))).toBe(true);
    expect(new SketchUnion().addRedis(day[0]!.sketch).addRedis(day[1]!.sketch).estimate()).toBe(2); // "7" and 7 are one visitor
    // The day of event 4 has no user: no sketch (the empty one), while its row exists.
    expect(reader.series(q)).toHaveLength(3);
    expect(written).toBe([...agg.groups()].filter((g) => g.measures.who?.kind === 'distinct' && g.measures.who.members.size > 0).length);
    // Range and filter as for series.
    expect(reader.sketches({ ...q, granularity: 'minute', from: T, to: T + 1 }, 'who')!.map((r) => r.dims)).toEqual([['a"b\nc', 'X', 'x']]);
    expect(reader.sketches({ ...q, filter: { order: null } }, 'who')!.map((r) => r.dims)).toEqual([[null, 'X', null]]);
    expect(() => reader?.sketches(q, 'n')).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    reader.close();

    // Without sketches (LAMBDA_BATCH_SKETCHES=false, or a run of an older version): null, not empty.
    const bare = join(dir, 'r2.sqlite');
    writeRunFile(bare, { views, viewsJson: VIEWS_JSON, record, groups: agg.groups() });
    reader = RunFileReader.open(bare, record);
    expect(reader.hasSketches).toBe(false);
    expect(reader.sketches(q, 'who')).toBeNull();
  });

  it('answers NOT_FOUND / VALIDATION for unknown views, granularities and dimensions', () => {
    const path = join(dir, 'r1.sqlite');
    writeRunFile(path, { views, viewsJson: VIEWS_JSON, record, groups: [] });
    reader = RunFileReader.open(path, record);
    const q = { view: 'tricky', granularity: 'day' as const, from: 0, to: 1 };
    expect(() => reader?.series({ ...q, view: 'nope' })).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => reader?.series({ ...q, granularity: 'hour' })).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    expect(() => reader?.series({ ...q, filter: { country: 'x' } })).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
  });

  it('stores a plain SQL layout a user can query directly', () => {
    const agg = new Aggregate();
    for (const e of validDeduped(events, views)) agg.add(e, views);
    const path = join(dir, 'r1.sqlite');
    writeRunFile(path, { views, viewsJson: VIEWS_JSON, record, groups: agg.groups() });
    const db = new Database(path, { readonly: true });
    try {
      const row = db.prepare(`SELECT m_n, m_sum, m_lo FROM view_tricky WHERE granularity = 'day' AND dim_order IS NULL`).get();
      expect(row).toEqual({ m_n: 1, m_sum: 0, m_lo: null });
      expect(db.prepare('SELECT run_id, watermark, arrival_complete FROM run').get()).toEqual({ run_id: 'r1', watermark: 60_000, arrival_complete: 120_000 });
      const indexes = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'view_tricky'`).all();
      expect(indexes).toEqual([{ name: 'view_tricky_bucket' }]);
    } finally {
      db.close();
    }
  });
});

/** Rows without their stored cells, to compare the values. */
function withoutCells<T extends { cells?: unknown }>(rows: readonly T[]): Omit<T, 'cells'>[] {
  return rows.map(({ cells: _cells, ...rest }) => rest);
}
