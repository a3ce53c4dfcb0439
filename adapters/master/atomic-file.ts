/**
 * Durable, atomic file creation on a local (POSIX) file system: readers see either no file or the
 * whole file, and once the promise resolves the file survives a crash or power cut. Write a temp
 * file in the same folder (same file system, so rename is atomic), fsync it, rename it over the
 * target, then fsync the folder so the rename itself is on disk.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/**
 * Temp files end with this, so they can never parse as a segment (`.jsonl.gz`) or a checkpoint
 * (`.json`); listings skip them too (a crash can leave one behind).
 */
export const TEMP_SUFFIX = '.tmp';

export function isTempName(name: string): boolean {
  return name.endsWith(TEMP_SUFFIX);
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** mkdir -p that also makes each newly created folder's entry durable in its parent. */
export async function ensureDurableDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return; // existed already
  // `first` is the top-most folder created; fsync every parent from its parent down to `dir`'s.
  for (let d = dir; ; d = dirname(d)) {
    await fsyncDir(dirname(d));
    if (d === first || d === dirname(d)) break;
  }
}

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await ensureDurableDir(dir);
  const temp = join(dir, `${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
  const handle = await open(temp, 'wx', 0o644);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}
