/**
 * What Spark reads for each master file of a run (docs/design-decisions.md, "The Spark engine"):
 *
 *  - a file on local disk (MasterDataset.localPath): the file itself, `file://`;
 *  - an S3 object (MasterDataset.objectUrl) when the engine has the s3a settings: the object
 *    itself, `s3a://bucket/key`;
 *  - staged: copied through the port into a local text file first. Only where reading the bytes
 *    natively would change a line: a file starting with a UTF-8 byte order mark (Hadoop's line
 *    reader drops it, the port keeps it and the reference engine finds that line not_json), and an
 *    S3 object when s3a is not set up.
 *
 * A staged file's lines are the port's (split as the reference engine splits them; no line holds
 * \n or \r), joined with \n after one empty first line that SQL drops again (`stagedPositions`),
 * so a mark at the start of the first line is no longer at the start of the file.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MasterDataset, MasterFile } from '../../shared/ports.js';
import { startsWithBom } from '../master/starts-with-bom.js';
import { s3aUrl } from './s3a.js';

export interface ReadPlan {
  /** what Spark reads, in the files' order */
  paths: string[];
  /** positions (in `paths`) of the staged files, whose first line is the added empty one */
  stagedPositions: number[];
  /** files read from local disk, from S3 through s3a, and staged through the port */
  counts: { local: number; s3a: number; staged: number };
}

/** S3 objects checked for a byte order mark at once (one ranged read of the first line each). */
const HEAD_READS_IN_FLIGHT = 8;

/** Whether the object's first line, read through the port, starts with U+FEFF; an object the port cannot read is staged too, so the port's own error fails the run as it fails the reference engine's. */
async function objectStartsWithBom(master: MasterDataset, key: string): Promise<boolean> {
  const lines = master.readLines(key)[Symbol.asyncIterator]();
  try {
    const first = await lines.next();
    return first.done !== true && first.value.startsWith('\ufeff');
  } catch {
    return true;
  } finally {
    // Stops the read after the first line (the rest of the object is Spark's).
    await lines.return?.().catch(() => undefined);
  }
}

export async function planReads(master: MasterDataset, files: readonly MasterFile[], s3a: boolean, stageDir: string, signal: AbortSignal): Promise<ReadPlan> {
  const localPath = master.localPath?.bind(master);
  const objectUrl = s3a ? master.objectUrl?.bind(master) : undefined;
  // The native URL of each file, or null: stage it.
  const native: (string | null)[] = new Array<string | null>(files.length).fill(null);
  const remote: number[] = [];
  for (const [i, file] of files.entries()) {
    signal.throwIfAborted();
    const path = localPath?.(file.key);
    if (path !== undefined) {
      if (!(await startsWithBom(path))) native[i] = pathToFileURL(path).href;
    } else if (objectUrl !== undefined) {
      remote.push(i);
    }
  }
  for (let at = 0; at < remote.length; at += HEAD_READS_IN_FLIGHT) {
    signal.throwIfAborted();
    await Promise.all(
      remote.slice(at, at + HEAD_READS_IN_FLIGHT).map(async (i) => {
        const key = (files[i] as MasterFile).key;
        if (!(await objectStartsWithBom(master, key))) native[i] = s3aUrl((objectUrl as (k: string) => string)(key));
      }),
    );
  }
  mkdirSync(stageDir, { recursive: true });
  const plan: ReadPlan = { paths: [], stagedPositions: [], counts: { local: 0, s3a: 0, staged: 0 } };
  for (const [i, file] of files.entries()) {
    const url = native[i] as string | null;
    if (url !== null) {
      plan.paths.push(url);
      plan.counts[url.startsWith('s3a:') ? 's3a' : 'local']++;
      continue;
    }
    signal.throwIfAborted();
    const staged = join(stageDir, `${i}.txt`);
    const out = createWriteStream(staged);
    out.write('\n');
    try {
      for await (const line of master.readLines(file.key)) {
        if (!out.write(`${line}\n`)) await once(out, 'drain');
      }
    } finally {
      out.end();
      await once(out, 'close');
    }
    plan.stagedPositions.push(i);
    plan.counts.staged++;
    plan.paths.push(pathToFileURL(staged).href);
  }
  return plan;
}
