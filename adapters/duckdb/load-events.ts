/**
 * Reads the snapshot's lines and validates them into TEMP table `ev`, one row per line, numbered
 * `seq` in (file, line) order (the dedupe keeps the first copy of an id by it; job-sql.ts). Files on local disk are read by DuckDB itself
 * (read-native.ts); the others (S3, and local files read_csv cannot split exactly as the port does)
 * come through the MasterDataset port, split exactly as the reference engine splits them (readline:
 * no line holds \n or \r), into `streamed(f, n, line)`, then into `ev` in (f, n) order.
 *
 * Lines are copied with preserve_insertion_order, so their rowids follow the order the source
 * gives them: a file's lines in file order, files in the order they are read (ordered-events.ts).
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
import { setTimeout as sleep } from 'node:timers/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { BatchEngineInput, EngineProgress } from '../../shared/batch-engine.js';
import { LambdaError } from '../../shared/errors.js';
import { OrderedEvents } from './ordered-events.js';
import { readNative } from './read-native.js';

const BLOCK_LINES = 4096;
const BLOCK_CHARS = 4 * 1024 * 1024;
const FILES_AT_ONCE = 3;

export interface LoadResult {
  progress: EngineProgress;
  /** files read by DuckDB itself, and through the port */
  native: number;
  streamed: number;
}

type LoadInput = Pick<BatchEngineInput, 'files' | 'master' | 'signal' | 'onProgress'>;

/** Fills `ev`, created before, with every line of the snapshot (see above). */
export async function loadEvents(
  db: DuckDBConnection,
  input: LoadInput,
  opts: { threads: number; fileDelayMs: number },
  intoEvents: (source: string) => string,
  aside: (line: string) => void,
): Promise<LoadResult> {
  const progress: EngineProgress = { filesDone: 0, bytesDone: 0, recordsRead: 0 };
  const events = new OrderedEvents(db, intoEvents);
  const all = input.files.map((_, f) => f);
  const toStream = input.master.localPath === undefined ? all : (await readNative(db, input, progress, opts, events)).fallback;
  if (toStream.length > 0) {
    await streamLines(db, input, toStream, progress, opts.fileDelayMs, aside);
    await events.add('SELECT line FROM streamed ORDER BY f, n');
    await db.run('DROP TABLE streamed');
  }
  return { progress, native: input.files.length - toStream.length, streamed: toStream.length };
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
