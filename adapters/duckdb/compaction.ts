/**
 * Compacted segments (issue 15's optional compaction; docs/design-decisions.md, "Batch layer"):
 * the validated load of one master segment, written once as Parquet beside the master dataset and
 * read by later runs instead of gunzipping and validating its JSON text again. Never a replacement:
 * the JSONL segment stays the truth, a compacted file is a cache of what this engine derives from
 * it, and any doubt about it means reading the segment.
 *
 *   <master root>/compacted/<signature>/<segment key>.<size>-<mtime>.parquet
 *
 * - `signature`: a hash of the validation SQL (shared/sql/event-sql.ts for these views) and of the
 *   format below. A change of the views, of the event rules or of this format gives another folder:
 *   a stale compacted file is never read, it is just not found.
 * - `<size>-<mtime>`: the segment as it was compacted. Segments are immutable, but an operator can
 *   replace one (MasterDataset.writeSegment `replacing`); the replacement has another mtime, so its
 *   old compacted file is not found either.
 * - Columns: `n` (the line's place in the segment, from 0) and then exactly the columns of `ev`
 *   after `seq` (load-events.ts), so a run gets `seq` back as (file position << 32) + n.
 * - Written to a temp name and renamed into place: a crash leaves no half file under the final name.
 *
 * A segment is compacted by the first run that reads it natively (read-native.ts): it is immutable
 * from the moment it is listed, so there is no need to wait for its arrival hour to close. Files
 * the engine streams (S3, files read_csv refuses) are not compacted.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { LambdaError } from '../../shared/errors.js';
import { SEGMENT_SUFFIX } from '../../shared/master/layout.js';
import { DUCKDB } from '../../shared/sql/dialect.js';
import { eventsSql } from '../../shared/sql/event-sql.js';
import type { ViewSet } from '../../shared/views/definition.js';

/** Bumped whenever the columns or their meaning change. */
const FORMAT = 'compacted-ev-1';

export const COMPACTED_DIR = 'compacted';

/** Where the compacted files of these views live (under the master dataset's root) and how to name one. */
export class Compaction {
  readonly dir: string;

  constructor(masterRoot: string, views: ViewSet) {
    const sql = eventsSql(DUCKDB, views, '(SELECT CAST(NULL AS BIGINT) AS n, CAST(NULL AS VARCHAR) AS line)', ['n']);
    const signature = createHash('sha256').update(FORMAT).update('\0').update(sql).digest('hex').slice(0, 16);
    this.dir = join(masterRoot, COMPACTED_DIR, signature);
  }

  /** The compacted file of the segment at `segmentPath` (its key `key`) as it is now; null when it cannot be read. */
  pathFor(key: string, segmentPath: string): string | null {
    try {
      const s = statSync(segmentPath);
      return join(this.dir, `${key.slice(0, -SEGMENT_SUFFIX.length)}.${s.size}-${Math.floor(s.mtimeMs)}.parquet`);
    } catch {
      return null; // a missing segment fails the run where it is read, as without compaction
    }
  }

  /** Writes `select` (columns n, then those of `ev` after seq) to `path`: temp file, then rename. */
  async write(db: DuckDBConnection, select: string, path: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    try {
      await db.run(`COPY (${select}) TO ${DUCKDB.str(temp)} (FORMAT parquet, COMPRESSION zstd)`);
      renameSync(temp, path);
    } finally {
      rmSync(temp, { force: true });
    }
  }
}

/** The root of a local master dataset, from one segment's key and its local path. */
export function masterRootOf(key: string, localPath: string): string {
  if (!localPath.endsWith(key)) throw new LambdaError('INTERNAL', `the local path ${localPath} of segment ${key} does not end with its key`);
  return localPath.slice(0, -key.length);
}
