/**
 * Master files on local disk read by DuckDB itself (issue 15): read_csv over the gzip files, one
 * VARCHAR column per line, no quoting, no header, in parallel over the files. About seven times
 * faster than streaming the lines through Node (bench/results.md, batch section), and what a user
 * of DuckDB would write.
 *
 * It must split lines exactly as the MasterDataset port does (readline: LF, CR or CRLF end a
 * line; the master writers put neither inside a line, local-master-dataset.ts), so read_csv runs
 * strict, with options under which every file it accepts splits the same way:
 *   - new_line LF and strict mode: a CR anywhere (CRLF files, a lone CR) is a parse error
 *   - delimiter U+0001, no quote, no escape: a line holding U+0001 is a parse error (never valid
 *     JSON: a control character)
 *   - invalid UTF-8 is a parse error (readline would decode it to U+FFFD)
 *   - an empty line arrives as NULL (read back as '')
 * and one thing it does silently: a UTF-8 byte order mark at the start of a file is dropped, so
 * such files are found first (startsWithBom). A file read_csv refuses, or one with a BOM, goes to
 * `fallback`: the engine streams it through the port like an S3 file, which reads it exactly as
 * the reference engine does, or fails the run the same way (a corrupt gzip, a missing file).
 *
 * Order: read_csv gives a file's lines in file order and the files in the order listed, which the
 * copy keeps (numbered-events.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { BatchEngineInput, EngineProgress } from '../../shared/batch-engine.js';
import { LambdaError } from '../../shared/errors.js';
import { DUCKDB } from '../../shared/sql/dialect.js';
import { startsWithBom } from '../master/starts-with-bom.js';
import type { Compaction } from './compaction.js';
import { seqSql, type NumberedEvents } from './numbered-events.js';

const CSV_OPTIONS =
  "columns = {'line': 'VARCHAR'}, header = false, delim = chr(1), quote = '', escape = '', new_line = '\\n', " +
  "auto_detect = false, strict_mode = true, compression = 'gzip', filename = true, hive_partitioning = false";

/** Files per read_csv call: enough to keep every thread busy, few enough to report progress. */
function groupSize(files: number, threads: number): number {
  return Math.max(threads * 4, Math.ceil(files / 10));
}

export interface NativeRead {
  /** positions (in the listing) of the files read_csv did not take: stream them through the port */
  fallback: number[];
  /** ms spent writing compacted files (compaction.ts), apart from the read */
  compactMs: number;
  /** compacted files written, and why others could not be */
  compacted: number;
  compactErrors: string[];
}

/**
 * Validates the lines of the files into `ev`, a group of files per read_csv, reporting progress per
 * group. A group read_csv refuses is retried file by file.
 */
export async function readNative(
  db: DuckDBConnection,
  input: Pick<BatchEngineInput, 'files' | 'master' | 'signal' | 'onProgress'>,
  progress: EngineProgress,
  opts: { threads: number; fileDelayMs: number },
  events: NumberedEvents,
  /** the files (positions in the listing) to read, and those of them to compact as they are read */
  todo: { positions: readonly number[]; compact: ReadonlyMap<number, string>; compaction: Compaction | null },
): Promise<NativeRead> {
  const localPath = input.master.localPath?.bind(input.master);
  if (localPath === undefined) throw new LambdaError('INTERNAL', 'readNative needs a master dataset on local disk');
  const fileAt = (f: number) => input.files[f] as (typeof input.files)[number];
  const fallback: number[] = [];
  const readable: number[] = [];
  for (const f of todo.positions) {
    if (await startsWithBom(localPath(fileAt(f).key))) fallback.push(f);
    else readable.push(f);
  }
  let compactMs = 0;
  let compacted = 0;
  const compactErrors: string[] = [];
  const insert = async (positions: readonly number[]): Promise<number> => {
    const byName = new Map(positions.map((f) => [localPath(fileAt(f).key), f]));
    const paths = [...byName.keys()].map((path) => DUCKDB.str(path));
    // An empty line arrives as NULL: the port reads it as ''.
    const ordered = `SELECT filename, coalesce(line, '') AS line FROM read_csv([${paths.join(', ')}], ${CSV_OPTIONS})`;
    const compacting = todo.compaction === null ? [] : positions.filter((f) => todo.compact.has(f));
    if (todo.compaction === null || compacting.length === 0) return events.addFiles(ordered, byName);
    // Validated into a table of this group first: each file's compacted copy is written from it,
    // then the group joins `ev`.
    await db.run('CREATE OR REPLACE TEMP TABLE gev AS SELECT * FROM ev LIMIT 0');
    try {
      const rows = await events.addFiles(ordered, byName, 'gev');
      const t = performance.now();
      for (const f of compacting) {
        const from = seqSql(String(f), '0');
        const to = seqSql(String(f + 1), '0');
        const select = `SELECT seq - ${from} AS n, * EXCLUDE (seq) FROM gev WHERE seq >= ${from} AND seq < ${to}`;
        // A cache that cannot be written (a full disk, a read-only folder) does not fail the run:
        // the segment is read again next time, and the failure is counted.
        try {
          await todo.compaction.write(db, select, todo.compact.get(f) as string);
          compacted++;
        } catch (err) {
          compactErrors.push(`${fileAt(f).key}: ${(err as Error).message}`);
        }
      }
      compactMs += performance.now() - t;
      await db.run('INSERT INTO ev SELECT * FROM gev');
      return rows;
    } finally {
      await db.run('DROP TABLE IF EXISTS gev');
    }
  };
  const done = (positions: readonly number[], rows: number) => {
    progress.filesDone += positions.length;
    progress.bytesDone += positions.reduce((sum, f) => sum + fileAt(f).sizeBytes, 0);
    progress.recordsRead += rows;
    input.onProgress({ ...progress });
  };
  const size = opts.fileDelayMs > 0 ? 1 : groupSize(input.files.length, opts.threads);
  const groups: number[][] = [];
  for (const f of readable) {
    const last = groups.at(-1);
    if (last !== undefined && last.length < size) last.push(f);
    else groups.push([f]);
  }
  for (const group of groups) {
    input.signal.throwIfAborted();
    try {
      done(group, await insert(group));
    } catch (err) {
      if (input.signal.aborted) throw err;
      // A file of the group is one read_csv refuses (the INSERT took none of its rows): find it,
      // read the others natively.
      for (const f of group) {
        try {
          done([f], await insert([f]));
        } catch {
          if (input.signal.aborted) throw err;
          fallback.push(f);
        }
      }
    }
    if (opts.fileDelayMs > 0) await sleep(opts.fileDelayMs, undefined, { signal: input.signal });
  }
  return { fallback: fallback.sort((a, b) => a - b), compactMs: Math.round(compactMs), compacted, compactErrors };
}
