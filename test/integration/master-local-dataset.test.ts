/** The local master dataset adapter against real files in a temp folder. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { LocalMasterDataset } from '../../adapters/master/local-master-dataset.js';
import { openMasterDataset } from '../../adapters/master/index.js';
import { silentLogger } from '../../platform/logger.js';
import { isLambdaError } from '../../shared/errors.js';
import type { MasterDataset } from '../../shared/ports.js';

const HOUR = Date.UTC(2024, 4, 17, 13, 20);

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of it) out.push(line);
  return out;
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('LocalMasterDataset', () => {
  let root: string;
  let master: MasterDataset;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'master-local-'));
    master = openMasterDataset({ masterUrl: `file://${root}` }, silentLogger());
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes a gzip segment under its arrival hour and reads the same lines back', async () => {
    const lines = ['{"id":"a","ts":1}', '{"id":"b","ts":2,"s":"ünïcødé ✓ \\u2028"}', '{}'];
    const file = await master.writeSegment({ topic: 'ev', partition: 1, firstOffset: 7, arrivalTs: HOUR, lines });
    expect(file.key).toBe('events/arrival=2024-05-17T13/ev-1-00000000000000000007.jsonl.gz');
    // A standard gzip of newline-terminated JSONL: readable by any tool, not only this adapter.
    expect(gunzipSync(readFileSync(join(root, file.key))).toString('utf8')).toBe(`${lines.join('\n')}\n`);
    expect(await collect(master.readLines(file.key))).toEqual(lines);
    expect(await master.listFiles()).toEqual([file]);
  });

  it('streams a large segment line by line', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ id: `e${i}`, ts: i, pad: 'x'.repeat(i % 50) }));
    const file = await master.writeSegment({ topic: 'ev', partition: 0, firstOffset: 0, arrivalTs: HOUR, lines });
    let n = 0;
    for await (const line of master.readLines(file.key)) {
      expect(line).toBe(lines[n]);
      n++;
    }
    expect(n).toBe(lines.length);
  });

  it('rewriting the same coordinates replaces the file with identical bytes under the same name', async () => {
    const seg = { topic: 'ev', partition: 0, firstOffset: 100, arrivalTs: HOUR, lines: ['{"id":"x","ts":5}'] };
    const first = await master.writeSegment(seg);
    const bytes = readFileSync(join(root, first.key));
    const again = await master.writeSegment({ ...seg, arrivalTs: HOUR + 60_000 }); // same hour
    expect(again).toEqual(first);
    expect(readFileSync(join(root, again.key)).equals(bytes)).toBe(true);
    expect(await master.listFiles()).toHaveLength(1);
  });

  it('never shows a half-written file: no temp file is listed, during writes or after a crash', async () => {
    // A crash mid-write leaves a temp file behind: it must stay invisible.
    mkdirSync(join(root, 'events/arrival=2024-05-17T13'), { recursive: true });
    writeFileSync(join(root, 'events/arrival=2024-05-17T13/ev-0-00000000000000000000.jsonl.gz.999-dead.tmp'), 'partial');
    writeFileSync(join(root, 'events/arrival=2024-05-17T13/notes.txt'), 'not a segment');
    const writes = Array.from({ length: 40 }, (_, i) =>
      master.writeSegment({ topic: 'ev', partition: i % 2, firstOffset: i * 10, arrivalTs: HOUR, lines: [`{"id":"e${i}","ts":${i}}`] }),
    );
    const listings: string[][] = [];
    const lister = (async () => {
      for (let i = 0; i < 20; i++) listings.push((await master.listFiles()).map((f) => f.key));
    })();
    await Promise.all([...writes, lister]);
    for (const keys of listings) {
      for (const key of keys) {
        expect(key).toMatch(/\.jsonl\.gz$/);
        // Every listed file is complete.
        expect(await collect(master.readLines(key))).toHaveLength(1);
      }
    }
    const files = await master.listFiles();
    expect(files).toHaveLength(40);
    expect(files.map((f) => f.key)).toEqual([...files.map((f) => f.key)].sort());
    expect(files.every((f) => f.sizeBytes > 0)).toBe(true);
    // Our own temp files are gone (the foreign crash leftover stays, untouched).
    expect(readdirSync(join(root, 'events/arrival=2024-05-17T13')).filter((n) => n.endsWith('.tmp'))).toHaveLength(1);
  });

  it('refuses a line with a line break, which would split a record in two', async () => {
    const err = await errorOf(master.writeSegment({ topic: 'ev', partition: 0, firstOffset: 0, arrivalTs: HOUR, lines: ['{"id":\n"a"}'] }));
    expect(isLambdaError(err) && err.code).toBe('STORAGE');
    expect(await master.listFiles()).toHaveLength(0);
  });

  it('reports a missing segment as NOT_FOUND and a corrupt one as STORAGE, without hanging', async () => {
    const missing = await errorOf(collect(master.readLines('events/arrival=2024-05-17T13/ev-0-00000000000000000001.jsonl.gz')));
    expect(isLambdaError(missing) && missing.code).toBe('NOT_FOUND');
    const key = 'events/arrival=2024-05-17T13/ev-0-00000000000000000002.jsonl.gz';
    mkdirSync(join(root, 'events/arrival=2024-05-17T13'), { recursive: true });
    writeFileSync(join(root, key), 'this is not gzip');
    const corrupt = await errorOf(collect(master.readLines(key)));
    expect(isLambdaError(corrupt) && corrupt.code).toBe('STORAGE');
    const notAKey = await errorOf(collect(master.readLines('../../etc/passwd')));
    expect(isLambdaError(notAKey) && notAKey.code).toBe('NOT_FOUND');
  });

  it('keeps one checkpoint per topic-partition, replaced atomically', async () => {
    expect(await master.readCheckpoints()).toEqual([]);
    const a = { topic: 'ev', partition: 1, lastOffset: 10, completeThrough: 1000, updatedAt: 1001 };
    const b = { topic: 'ev', partition: 0, lastOffset: -1, completeThrough: 2000, updatedAt: 2001 };
    await master.writeCheckpoint(a);
    await master.writeCheckpoint(b);
    await master.writeCheckpoint({ ...a, lastOffset: 20, completeThrough: 3000 });
    expect(await master.readCheckpoints()).toEqual([b, { ...a, lastOffset: 20, completeThrough: 3000 }]);
    expect(readdirSync(join(root, 'checkpoints')).sort()).toEqual(['ev-0.json', 'ev-1.json']);
  });

  it('fails loudly on a damaged checkpoint instead of treating it as missing', async () => {
    mkdirSync(join(root, 'checkpoints'));
    writeFileSync(join(root, 'checkpoints/ev-0.json'), '{"version":1,"topic":"ev"');
    const err = await errorOf(master.readCheckpoints());
    expect(isLambdaError(err) && err.code).toBe('STORAGE');
    expect(String((err as Error).message)).toContain('checkpoints/ev-0.json');
  });

  it('describes itself by URL; an s3:// URL without S3 settings is a configuration error', () => {
    expect(master.describe()).toBe(`file://${root}`);
    expect(new LocalMasterDataset(root).describe()).toBe(`file://${root}`);
    let err: unknown;
    try {
      openMasterDataset({ masterUrl: 's3://bucket/prefix' }, silentLogger());
    } catch (e) {
      err = e;
    }
    expect(isLambdaError(err) && err.code).toBe('CONFIG_INVALID');
  });
});
