/**
 * The `duckdb` batch engine (issue 15; docs/design-decisions.md, "Batch layer"): the views
 * compiled to SQL (shared/sql/) and run by embedded DuckDB, giving the same groups and counts as
 * the reference engine.
 *
 *   1. every line of every snapshot file read (by DuckDB's read_csv where the files are on local
 *      disk, read-native.ts; else through the MasterDataset port, the same gunzip and line
 *      splitting as the reference engine) and, in the same pass, validated and projected in SQL
 *      when plain (shared/sql/event-sql.ts), in read order (load-events.ts); or, for a segment
 *      compacted by an earlier run, its validated rows read in place from Parquet
 *   2. the other lines through shared/events.ts (ts-path.ts), back into DuckDB in the same columns
 *   3. exact dedupe by id, then every view at every granularity (shared/sql/job-sql.ts)
 *
 * Memory: DuckDB's `memory_limit` (LAMBDA_BATCH_MEMORY_MB); past it the tables, the window and
 * the aggregations spill to `<batch dir>/duckdb/` (temp_directory), emptied before and after.
 * No id budget: the dedupe is a DuckDB window, bounded by the disk, not by a count of ids.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBMaterializedResult } from '@duckdb/node-api';
import type { StoredGroup, StoredSketch } from '../../shared/aggregate/stored-group.js';
import type { BatchEngine, BatchEngineInput, BatchEngineResult } from '../../shared/batch-engine.js';
import { DUCKDB } from '../../shared/sql/dialect.js';
import { eventsSql } from '../../shared/sql/event-sql.js';
import { dedupeCountsSql, rankedSql, viewQueries } from '../../shared/sql/job-sql.js';
import { projectionColumns } from '../../shared/sql/projection.js';
import { dropEvents, EVENTS, loadEvents } from './load-events.js';
import { sketchLists, sketchRowsOf } from './sketch-rows.js';
import { exact, storedGroupsOf } from './stored-groups.js';
import { textOf } from './text-bytes.js';
import { TsPath, tsPathColumns } from './ts-path.js';

export interface DuckDbEngineOptions {
  /** DuckDB's worker threads (LAMBDA_BATCH_WORKERS, 0 resolved to the cores) */
  threads: number;
  /** DuckDB's memory_limit in MiB (LAMBDA_BATCH_MEMORY_MB) */
  memoryMb: number;
  /** spill directory; emptied before and after a run */
  workDir: string;
  /** LAMBDA_BATCH_FILE_DELAY_MS: a pause after each file (tests catch a run in flight) */
  fileDelayMs: number;
  /** LAMBDA_BATCH_COMPACT: read segments from their compacted Parquet, writing it where missing (compaction.ts) */
  compact: boolean;
}

/**
 * Lines judged by TypeScript per round trip. Results are read whole (runAndReadAll), never
 * streamed: DuckDB streaming results hung at 5M events (an idle executor waiting for a task), in
 * this engine's TS path and in the sketches' query alike.
 */
const TS_PAGE = 50_000;

export class DuckDbBatchEngine implements BatchEngine {
  readonly name = 'duckdb';
  /** lines the last run judged in SQL, and in TypeScript (ts-path.ts): what the tests and logs look at */
  lastSplit = { sql: 0, typescript: 0 };
  /** files the last run read with DuckDB's read_csv, and through the MasterDataset port */
  lastRead = { native: 0, streamed: 0 };
  /** where the last run's time went, ms (for the bench and logs); `compact`: writing compacted files, within the load */
  lastTimings = { load: 0, compact: 0, typescript: 0, dedupe: 0, views: 0 };
  /** compacted files the last run read and wrote, and why others could not be written */
  lastCompaction: { read: number; written: number; errors: string[] } = { read: 0, written: 0, errors: [] };

  constructor(private readonly opts: DuckDbEngineOptions) {}

  async compute(input: BatchEngineInput): Promise<BatchEngineResult> {
    const { opts } = this;
    rmSync(opts.workDir, { recursive: true, force: true });
    mkdirSync(opts.workDir, { recursive: true });
    // A database file, not ':memory:': tables of an in-memory database cannot leave memory (an
    // append past memory_limit fails with "failed to pin block"); a file's blocks can be evicted.
    const instance = await DuckDBInstance.create(join(opts.workDir, 'run.duckdb'), {
      threads: String(opts.threads),
      memory_limit: `${opts.memoryMb}MiB`,
      temp_directory: join(opts.workDir, 'spill'),
      // Row order means nothing past the load, which sets it for its inserts (load-events.ts).
      preserve_insertion_order: 'false',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const db = await instance.connect();
    const interrupt = () => db.interrupt();
    input.signal.addEventListener('abort', interrupt, { once: true });
    try {
      return await this.run(db, input);
    } catch (err) {
      input.signal.throwIfAborted(); // an interrupted query reports the abort, not "INTERRUPT"
      throw err;
    } finally {
      input.signal.removeEventListener('abort', interrupt);
      db.closeSync();
      instance.closeSync();
      rmSync(opts.workDir, { recursive: true, force: true });
    }
  }

  private async run(db: DuckDBConnection, input: BatchEngineInput): Promise<BatchEngineResult> {
    const { views, signal } = input;
    const projection = projectionColumns(views);
    await db.run(`CREATE TEMP TABLE ts_valid (${tsPathColumns(projection)})`);
    const tsPath = new TsPath(views, projection);

    let t = performance.now();
    const lap = (what: keyof DuckDbBatchEngine['lastTimings']) => {
      const now = performance.now();
      this.lastTimings[what] = Math.round(now - t);
      t = now;
    };
    // 1. lines read and validated in one pass into `ev`, beside the compacted files' view, both in
    //    `events` (load-events.ts): SQL judges the plain ones;
    //    empty lines and those holding U+0000 go straight to the TypeScript path
    await db.run(`CREATE TEMP TABLE ev AS ${eventsSql(DUCKDB, views, '(SELECT CAST(NULL AS BIGINT) AS seq, CAST(NULL AS VARCHAR) AS line LIMIT 0)', ['seq'])}`);
    const intoEvents = (source: string, table = 'ev') => `INSERT INTO ${table} ${eventsSql(DUCKDB, views, source, ['seq'])}`;
    // seq -1: such a line is never valid JSON, so it never reaches the dedupe
    const loadOpts = { threads: this.opts.threads, fileDelayMs: this.opts.fileDelayMs, compact: this.opts.compact };
    const { progress, native, streamed, compaction } = await loadEvents(db, input, loadOpts, intoEvents, (line) => tsPath.add(-1, line));
    this.lastRead = { native, streamed };
    this.lastCompaction = { read: compaction.read, written: compaction.written, errors: compaction.errors };
    lap('load');
    // The load's time includes writing the compacted files; that part is also reported apart.
    this.lastTimings.compact = compaction.writeMs;

    // 2. the lines SQL does not judge, by shared/events.ts
    signal.throwIfAborted();
    await tsPath.flush(db);
    await db.run(`CREATE TEMP TABLE not_plain AS SELECT row_number() OVER (ORDER BY seq) AS k, seq, line FROM ${EVENTS} WHERE NOT plain`);
    const [[notPlain] = []] = (await db.runAndReadAll('SELECT count(*) FROM not_plain')).getRows();
    for (let from = 1; from <= Number(notPlain); from += TS_PAGE) {
      signal.throwIfAborted();
      const page = await db.runAndReadAll(`SELECT seq, encode(line) FROM not_plain WHERE k BETWEEN ${from} AND ${from + TS_PAGE - 1}`);
      for (const [seq, line] of page.getRows()) tsPath.add(Number(seq), textOf(line) as string);
      await tsPath.flush(db);
    }
    await db.run('DROP TABLE not_plain');
    // The plain lines by verdict, in one scan: NULL is valid, any other is an invalid reason.
    const invalid: Record<string, number> = { ...tsPath.invalid };
    let sqlJudged = 0;
    for (const [reason, count] of (await db.runAndReadAll(`SELECT reason, count(*) FROM ${EVENTS} WHERE plain GROUP BY reason`)).getRows()) {
      const n = exact(count, 'plain lines') ?? 0;
      sqlJudged += n;
      if (reason !== null) invalid[reason as string] = (invalid[reason as string] ?? 0) + n;
    }
    this.lastSplit = { sql: sqlJudged, typescript: progress.recordsRead - sqlJudged };

    lap('typescript');
    // 3. dedupe and views
    signal.throwIfAborted();
    input.onMerge();
    const cols = ['id', 'ts', ...projection.map((c) => c.name)].join(', ');
    const valid = `(SELECT seq, lh, ${cols} FROM ${EVENTS} WHERE plain AND reason IS NULL UNION ALL SELECT seq, ${DUCKDB.hash64('line')} AS lh, ${cols} FROM ts_valid)`;
    await db.run(`CREATE TEMP TABLE ranked AS ${rankedSql(views, valid)}`);
    await dropEvents(db);
    await db.run('DROP TABLE ts_valid');
    const [counts] = (await db.runAndReadAll(dedupeCountsSql('ranked'))).getRows();
    lap('dedupe');
    // The distinct measures' sketches (issue 16), from the same kept records: DuckDB lists each
    // finest group's registers first; then the view queries run on DuckDB's threads while this
    // thread turns those lists into sketches (sketch-rows.ts), one query on the connection at a time.
    const lists = input.sketches === true ? await sketchLists(db, views, 'ranked', signal) : [];
    const queries = viewQueries(DUCKDB, views, 'ranked');
    const results = (async () => {
      const out: DuckDBMaterializedResult[] = [];
      for (const q of queries) {
        signal.throwIfAborted();
        const dims = Array.from({ length: q.dims }, (_, j) => `encode(d${j})`);
        const measures = q.measures.map((_, k) => `m${k}`);
        out.push(await db.run(`SELECT ${['granularity', 'bucket_start', ...dims, ...measures].join(', ')} FROM (${q.sql})`));
      }
      return out;
    })();
    let sketches: StoredSketch[] | undefined;
    try {
      sketches = input.sketches === true ? sketchRowsOf(lists, signal) : undefined;
    } finally {
      await results.catch(() => undefined); // never leave a query running on the connection
    }
    const groups: StoredGroup[] = [];
    (await results).forEach((result, i) => storedGroupsOf(result, queries[i]!, groups));
    lap('views');
    return {
      groups,
      ...(sketches !== undefined ? { sketches } : {}),
      counts: {
        eventsRead: progress.recordsRead,
        invalid,
        duplicates: exact(counts?.[1] ?? 0, 'duplicates') ?? 0,
        duplicatesDifferingPayload: exact(counts?.[2] ?? 0, 'differing duplicates') ?? 0,
        eventsKept: exact(counts?.[0] ?? 0, 'kept events') ?? 0,
      },
      workers: this.opts.threads,
    };
  }
}
