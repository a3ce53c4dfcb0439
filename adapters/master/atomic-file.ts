/**
 * Durable, atomic file creation on a local (POSIX) file system: readers see either no file or the
 * whole file, and once the promise resolves the file survives a crash or power cut. Write a temp
 * file in the same folder (same file system, so rename is atomic), fsync it, rename it over the
 * target, then fsync the folder so the rename itself is on disk.
 */
import { link, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
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

function tempName(path: string, tag = ''): string {
  return join(dirname(path), `${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}${tag}${TEMP_SUFFIX}`);
}

async function writeDurableTemp(path: string, data: Uint8Array | string): Promise<string> {
  const temp = tempName(path);
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  return temp;
}

function isCode(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException)?.code === code;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export type ExclusiveResult = { created: true } | { created: false; existing: Buffer };

/**
 * Creates `path` durably only if no file has that name: the temp file is hard-linked to the final
 * name (link(2) fails with EEXIST instead of replacing, unlike rename(2)). When the name is taken,
 * nothing is changed and the existing bytes are returned for the caller to compare.
 */
export async function createFileExclusive(path: string, data: Uint8Array | string): Promise<ExclusiveResult> {
  const dir = dirname(path);
  await ensureDurableDir(dir);
  const temp = await writeDurableTemp(path, data);
  try {
    await link(temp, path);
  } catch (err) {
    if (!isCode(err, 'EEXIST')) throw err;
    return { created: false, existing: await readFile(path) };
  } finally {
    await rm(temp, { force: true });
  }
  await fsyncDir(dir);
  return { created: true };
}

/**
 * Replaces `path` only if it still holds the bytes whose SHA-256 is `expectedSha`: the file is
 * first renamed aside (atomic, so no other writer's file can be replaced unseen), checked, and the
 * new bytes linked into the free name (EEXIST: someone created it meanwhile, and wins). Returns
 * false, changing nothing of another writer's, when the file was not the expected one.
 */
export async function replaceFileIf(path: string, data: Uint8Array | string, expectedSha: string): Promise<boolean> {
  const dir = dirname(path);
  await ensureDurableDir(dir);
  const temp = await writeDurableTemp(path, data);
  const aside = tempName(path, '-aside');
  try {
    let moved = true;
    try {
      await rename(path, aside);
    } catch (err) {
      if (!isCode(err, 'ENOENT')) throw err;
      moved = false;
    }
    if (moved && sha256Hex(await readFile(aside)) !== expectedSha) {
      // Not the file we were told to replace: put it back (unless yet another writer took the name).
      await link(aside, path).catch((err: unknown) => {
        if (!isCode(err, 'EEXIST')) throw err;
      });
      await fsyncDir(dir);
      return false;
    }
    try {
      await link(temp, path);
    } catch (err) {
      if (isCode(err, 'EEXIST')) return false;
      throw err;
    }
    await fsyncDir(dir);
    return true;
  } finally {
    await rm(temp, { force: true });
    await rm(aside, { force: true });
  }
}
