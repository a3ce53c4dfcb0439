/**
 * The master dataset on a local (or mounted) file system. Immutable, append-only files named by
 * their Kafka coordinates (see shared/master/layout.ts); writing the same coordinates again with identical
 * content is a no-op (re-archiving after a crash is harmless), and with different content is
 * refused (a stalled archiver cannot overwrite its successor's segment).
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip, gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { LambdaError } from '../../shared/errors.js';
import type { Checkpoint, MasterDataset, MasterFile, MasterSegment } from '../../shared/ports.js';
import { createFileExclusive, ensureDurableDir, isTempName, replaceFileIf, sha256Hex, TEMP_SUFFIX, writeFileAtomic } from './atomic-file.js';
import { segmentConflictError } from './segment-conflict.js';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint-codec.js';
import { arrivalHour, checkpointKey, CHECKPOINTS_PREFIX, EVENTS_PREFIX, parseCheckpointKey, parseSegmentKey, segmentKey } from '../../shared/master/layout.js';

const gzipAsync = promisify(gzip);

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}

function storageError(what: string, err: unknown): LambdaError {
  return new LambdaError('STORAGE', `${what}: ${(err as Error).message}`, { cause: err, retriable: true });
}

/** Folder names in `dir`, or none when it does not exist yet. */
async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isMissing(err)) return [];
    throw storageError(`cannot list ${dir}`, err);
  }
}

/**
 * One record per line: a line break inside a value would split it in two on read. Valid JSON only
 * has line breaks as insignificant whitespace, so callers normalise them; here it is a hard check.
 */
function encodeLines(lines: readonly string[]): string {
  for (const line of lines) {
    if (/[\r\n]/.test(line)) throw new LambdaError('STORAGE', 'a master dataset line must not contain a line break');
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

export class LocalMasterDataset implements MasterDataset {
  constructor(
    /** absolute path of the dataset root */
    private readonly root: string,
    private readonly url = `file://${root}`,
  ) {}

  describe(): string {
    return this.url;
  }

  /** The root folder exists or can be created, and takes a file (a probe, removed at once). */
  async verify(): Promise<void> {
    // The temp suffix keeps the probe out of every listing, should a crash leave it behind.
    const probe = join(this.root, `.verify-${process.pid}-${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
    try {
      await ensureDurableDir(this.root);
      await writeFile(probe, 'ok\n', { flag: 'wx' });
      await rm(probe);
    } catch (err) {
      await rm(probe, { force: true }).catch(() => undefined); // best effort: the error below is the news
      throw new LambdaError(
        'CONFIG_INVALID',
        `master dataset ${this.url}: the folder cannot be created or written (${(err as Error).message}); fix LAMBDA_MASTER_URL (default <LAMBDA_DATA_DIR>/master) or the folder's permissions`,
        { cause: err },
      );
    }
  }

  /**
   * Fenced (see the port): link(2) of a durable temp file creates the name only if it is free, and
   * `replacing` swaps out exactly the file with that SHA-256 (atomic-file.ts).
   */
  async writeSegment(seg: MasterSegment, opts: { replacing?: string } = {}): Promise<MasterFile> {
    const hour = arrivalHour(seg.arrivalTs);
    const key = segmentKey({ arrivalHour: hour, topic: seg.topic, partition: seg.partition, firstOffset: seg.firstOffset });
    // Node's gzip is deterministic (no timestamp in the header), so a rewrite is byte-identical.
    const body = await gzipAsync(encodeLines(seg.lines));
    const path = join(this.root, key);
    let conflict: string | null = null;
    try {
      if (opts.replacing !== undefined) {
        if (!(await replaceFileIf(path, body, opts.replacing))) conflict = 'changed since';
      } else {
        const r = await createFileExclusive(path, body);
        if (!r.created && !r.existing.equals(body)) conflict = sha256Hex(r.existing);
      }
    } catch (err) {
      throw storageError(`cannot write ${key}`, err);
    }
    if (conflict !== null)
      throw segmentConflictError(key, conflict === 'changed since' ? sha256Hex(await readFile(path).catch(() => Buffer.alloc(0))) : conflict, this.url);
    return { key, arrivalHour: hour, topic: seg.topic, partition: seg.partition, firstOffset: seg.firstOffset, sizeBytes: body.length };
  }

  async listFiles(): Promise<MasterFile[]> {
    const files: MasterFile[] = [];
    for (const folder of await listDir(join(this.root, EVENTS_PREFIX))) {
      if (!folder.startsWith('arrival=')) continue;
      for (const name of await listDir(join(this.root, EVENTS_PREFIX, folder))) {
        if (isTempName(name)) continue;
        const key = `${EVENTS_PREFIX}${folder}/${name}`;
        const c = parseSegmentKey(key);
        if (!c) continue; // not ours (a stray file): never guess what it holds
        try {
          const { size } = await stat(join(this.root, key));
          files.push({ key, ...c, sizeBytes: size });
        } catch (err) {
          if (!isMissing(err)) throw storageError(`cannot stat ${key}`, err);
        }
      }
    }
    return files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  localPath(key: string): string {
    if (!parseSegmentKey(key)) throw new LambdaError('NOT_FOUND', `${key} is not a master dataset segment key`);
    return join(this.root, key);
  }

  /** Streams the gunzipped lines: memory stays flat however large the file is. */
  async *readLines(key: string): AsyncIterable<string> {
    if (!parseSegmentKey(key)) throw new LambdaError('NOT_FOUND', `${key} is not a master dataset segment key`);
    const path = join(this.root, key);
    const source = createReadStream(path);
    const gunzip = createGunzip();
    // Errors of the file or the decompressor must end the iteration, not hang it.
    source.on('error', (err) => gunzip.destroy(err));
    const lines = createInterface({ input: source.pipe(gunzip), crlfDelay: Number.POSITIVE_INFINITY });
    try {
      for await (const line of lines) yield line;
    } catch (err) {
      if (isMissing(err)) throw new LambdaError('NOT_FOUND', `${key} does not exist in ${this.url}`, { cause: err });
      throw storageError(`cannot read ${key}`, err);
    } finally {
      lines.close();
      source.destroy();
    }
  }

  async writeCheckpoint(cp: Checkpoint): Promise<void> {
    const key = checkpointKey(cp);
    try {
      await writeFileAtomic(join(this.root, key), encodeCheckpoint(cp));
    } catch (err) {
      if (err instanceof LambdaError) throw err;
      throw storageError(`cannot write ${key}`, err);
    }
  }

  async readCheckpoints(): Promise<Checkpoint[]> {
    const out: Checkpoint[] = [];
    for (const name of await listDir(join(this.root, CHECKPOINTS_PREFIX))) {
      const key = `${CHECKPOINTS_PREFIX}${name}`;
      if (isTempName(name) || !parseCheckpointKey(key)) continue;
      let text: string;
      try {
        text = await readFile(join(this.root, key), 'utf8');
      } catch (err) {
        if (isMissing(err)) continue;
        throw storageError(`cannot read ${key}`, err);
      }
      const cp = decodeCheckpoint(text, `${this.url}/${key}`);
      if (checkpointKey(cp) !== key) throw new LambdaError('STORAGE', `checkpoint ${this.url}/${key} holds ${cp.topic}-${cp.partition}`);
      out.push(cp);
    }
    return out.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }
}
