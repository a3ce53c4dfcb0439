/**
 * Reads the snapshot's lines and validates them into TEMP table `ev`, or finds them validated in
 * compacted files (TEMP VIEW `compacted_ev`), one row per line (both in view `events`), numbered
 * `seq` = (file position << 32) + line (numbered-events.ts; the dedupe keeps the first copy of an
 * id by it, job-sql.ts). Three sources, each file from exactly one:
 *
 *   - a compacted file (compaction.ts), when the run compacts and one exists for the segment as it
 *     is now: its validated rows as they were written, no JSON read, read in place (viewCompacted);
 *   - DuckDB's own read of the gzip file (read-native.ts), for the other files on local disk; the
 *     run compacts them as it reads them;
 *   - the MasterDataset port (S3, and local files read_csv cannot split exactly as the port does),
 *     split exactly as the reference engine splits them (readline: no line holds \n or \r), into
 *     `streamed(f, n, line)`, then into `ev`.
 *
 * Streamed lines cross into DuckDB in blocks, not one by one: consecutive lines joined with \n, one
 * appended row per block (file, first line number, text), then split back in SQL with the line
 * numbers (string_split + generate_subscripts, which DuckDB runs in lock step). Four calls into
 * the native module per line cost more than the rest of the load.
 *
 * Lines that must not enter a block go to `aside` instead, and end the block: empty lines
 * (string_split('') could not tell one empty line from none) and lines holding U+0000 (a C string
 * would end there). Neither is ever valid JSON, so no dedupe order is needed for them.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { BatchEngineInput, EngineProgress } from '../../shared/batch-engine.js';
import { LambdaError } from '../../shared/errors.js';
import { DUCKDB } from '../../shared/sql/dialect.js';
import { Compaction, masterRootOf } from './compaction.js';
import { MAX_FILES, NumberedEvents, seqSql } from './numbered-events.js';
import { readNative } from './read-native.js';

const BLOCK_LINES = 4096;
const BLOCK_CHARS = 4 * 1024 * 1024;
const FILES_AT_ONCE = 3;

export interface LoadResult {
  progress: EngineProgress;
  /** files read by DuckDB itself, and through the port */
  native: number;
  streamed: number;
  /** compacted files read, written, and why some could not be written; ms spent writing them */
  compaction: { read: number; written: number; errors: string[]; writeMs: number };
}

type LoadInput = Pick<BatchEngineInput, 'files' | 'master' | 'signal' | 'onProgress' | 'views'>;

/** Compacted files per read_parquet call: progress is reported per group. */
const COMPACTED_AT_ONCE = 20;

/** Fills `ev`, created before, with the lines it reads, and makes view `events` (EVENTS) of every line of the snapshot (see above). */
export async function loadEvents(
  db: DuckDBConnection,
  input: LoadInput,
  opts: { threads: number; fileDelayMs: number; compact: boolean },
  intoEvents: (source: string, table?: string) => string,
  aside: (line: string) => void,
): Promise<LoadResult> {
  if (input.files.length > MAX_FILES) throw new LambdaError('INTERNAL', `${input.files.length} files in one run: at most ${MAX_FILES} keep their order`);
  const progress: EngineProgress = { filesDone: 0, bytesDone: 0, recordsRead: 0 };
  const events = new NumberedEvents(db, intoEvents);
  const all = input.files.map((_, f) => f);
  const compaction: LoadResult['compaction'] = { read: 0, written: 0, errors: [], writeMs: 0 };
  const localPath = input.master.localPath?.bind(input.master);
  let toStream = all;
  if (localPath !== undefined) {
    const first = input.files[0];
    const compactor = opts.compact && first !== undefined ? new Compaction(masterRootOf(first.key, localPath(first.key)), input.views) : null;
    const compacted = new Map<number, string>();
    const compact = new Map<number, string>();
    for (const f of all) {
      const key = (input.files[f] as (typeof input.files)[number]).key;
      const path = compactor?.pathFor(key, localPath(key)) ?? null;
      if (path === null) continue;
      if (existsSync(path)) compacted.set(f, path);
      else compact.set(f, path);
    }
    compaction.read = await viewCompacted(db, input, compacted, progress, opts.fileDelayMs);
    const native = await readNative(db, input, progress, opts, events, { positions: all.filter((f) => !compacted.has(f)), compact, compaction: compactor });
    toStream = native.fallback;
    Object.assign(compaction, { written: native.compacted, errors: native.compactErrors, writeMs: native.compactMs });
  }
  if (toStream.length > 0) {
    await streamLines(db, input, toStream, progress, opts.fileDelayMs, aside);
    await events.addNumbered(`SELECT ${seqSql('f', 'n')} AS seq, line FROM streamed`);
    await db.run('DROP TABLE streamed');
  }
  await db.run(`CREATE TEMP VIEW ${EVENTS} AS SELECT * FROM ev${compaction.read > 0 ? ' UNION ALL SELECT * FROM compacted_ev' : ''}`);
  return { progress, native: input.files.length - toStream.length, streamed: toStream.length, compaction };
}

/** After loadEvents: every line of the snapshot, validated (table `ev` and the compacted files' view). */
export const EVENTS = 'events';

/** Drops what loadEvents created (the events' view first: it reads the others). */
export async function dropEvents(db: DuckDBConnection): Promise<void> {
  await db.run(`DROP VIEW ${EVENTS}`);
  await db.run('DROP VIEW IF EXISTS compacted_ev');
  await db.run('DROP TABLE ev');
}

/**
 * The compacted files (position in the listing to path) as TEMP VIEW `compacted_ev`, in `ev`'s
 * columns: not copied into `ev`. The dedupe's window reads them once where it scans the events, and
 * the counts and the TypeScript path read only the columns they need. Copying 5M events' rows into
 * `ev` first took ~2.2 s of a 10-11 s run, and the window then read them back (bench/results.md).
 * Their rows are counted here from the files' footers (no row is read): the progress and the run's
 * eventsRead, a group of files per count (one file each while `fileDelayMs` pauses after each).
 * A file's position comes from read_parquet's `file_index` (its place in the list given), not
 * from its name: joining every row by its path string cost more than the rest of the read.
 */
async function viewCompacted(
  db: DuckDBConnection,
  input: LoadInput,
  compacted: ReadonlyMap<number, string>,
  progress: EngineProgress,
  fileDelayMs: number,
): Promise<number> {
  const entries = [...compacted];
  const parquet = (group: readonly (readonly [number, string])[]) =>
    `read_parquet([${group.map(([, path]) => DUCKDB.str(path)).join(', ')}], hive_partitioning = false)`;
  const size = fileDelayMs > 0 ? 1 : COMPACTED_AT_ONCE;
  for (let i = 0; i < entries.length; i += size) {
    input.signal.throwIfAborted();
    const group = entries.slice(i, i + size);
    const [[rows] = []] = (await db.runAndReadAll(`SELECT count(*) FROM ${parquet(group)}`)).getRows();
    progress.filesDone += group.length;
    progress.bytesDone += group.reduce((sum, [f]) => sum + (input.files[f] as (typeof input.files)[number]).sizeBytes, 0);
    progress.recordsRead += Number(rows);
    input.onProgress({ ...progress });
    if (fileDelayMs > 0) await sleep(fileDelayMs, undefined, { signal: input.signal });
  }
  const positions = entries.map(([f], i) => `(${i}, ${f})`).join(', ');
  await db.run(
    entries.length === 0
      ? 'CREATE TEMP VIEW compacted_ev AS SELECT * FROM ev LIMIT 0'
      : `CREATE TEMP VIEW compacted_ev AS SELECT ${seqSql('p.f', 'c.n')} AS seq, c.* EXCLUDE (n) FROM ${parquet(entries)} c ` +
          `JOIN (VALUES ${positions}) p(i, f) ON p.i = c.file_index`,
  );
  return entries.length;
}

/** The files at `positions` through the MasterDataset port into TEMP table `streamed(f, n, line)`. */
async function streamLines(
  db: DuckDBConnection,
  input: LoadInput,
  positions: readonly number[],
  progress: EngineProgress,
  fileDelayMs: number,
  aside: (line: string) => void,
): Promise<void> {
  await db.run('CREATE TEMP TABLE blocks (f INTEGER, n0 INTEGER, text VARCHAR)');
  const appender = await db.createAppender('blocks', 'main', 'temp');
  let loaded = 0;
  let failed = false; // one reader failed: the others stop at their next line
  const loadFile = async (f: number) => {
    const file = input.files[f] as (typeof input.files)[number];
    let block: string[] = [];
    let chars = 0;
    let n0 = 0;
    let n = 0;
    // Appender calls are synchronous: blocks of files read concurrently never interleave.
    const flush = () => {
      if (block.length > 0) {
        appender.appendInteger(f);
        appender.appendInteger(n0);
        appender.appendVarchar(block.join('\n'));
        appender.endRow();
        loaded += block.length;
      }
      block = [];
      chars = 0;
    };
    for await (const line of input.master.readLines(file.key)) {
      if (failed) return;
      if (line.length === 0 || line.includes('\u0000')) {
        flush();
        aside(line);
      } else {
        if (block.length === 0) n0 = n;
        block.push(line);
        chars += line.length;
        if (block.length >= BLOCK_LINES || chars >= BLOCK_CHARS) flush();
      }
      n++;
    }
    flush();
    if (fileDelayMs > 0) await sleep(fileDelayMs, undefined, { signal: input.signal });
    progress.filesDone++;
    progress.bytesDone += file.sizeBytes;
    progress.recordsRead += n;
    input.onProgress({ ...progress });
  };
  // A few files at once: their gunzip runs on libuv's threads while this thread splits lines.
  let next = 0;
  const reader = async () => {
    try {
      while (next < positions.length && !failed) {
        input.signal.throwIfAborted();
        await loadFile(positions[next++] as number);
      }
    } catch (err) {
      failed = true;
      throw err;
    }
  };
  await Promise.all(Array.from({ length: Math.min(FILES_AT_ONCE, positions.length) }, reader));
  appender.closeSync();
  await db.run(
    'CREATE TEMP TABLE streamed AS SELECT f, CAST(n0 + i - 1 AS INTEGER) AS n, line FROM (' +
      'SELECT f, n0, unnest(parts) AS line, generate_subscripts(parts, 1) AS i FROM (' +
      'SELECT f, n0, string_split(text, chr(10)) AS parts FROM blocks))',
  );
  await db.run('DROP TABLE blocks');
  const [[count] = []] = (await db.runAndReadAll('SELECT count(*) FROM streamed')).getRows();
  if (Number(count) !== loaded) throw new LambdaError('INTERNAL', `loading lines into DuckDB: ${loaded} appended, ${String(count)} in the table`);
}
