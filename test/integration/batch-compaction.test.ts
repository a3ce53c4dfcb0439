/**
 * Compacted segments (adapters/duckdb/compaction.ts): a run of the duckdb engine keeps each local
 * segment's validated load as Parquet and the next run reads it instead of the JSON. A compacted
 * file is only a cache: one of a segment that was replaced since, or one written for other views,
 * is never read, and every run publishes what the reference engine publishes from the JSON.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { LocalMasterDataset } from '../../adapters/master/index.js';
import { sha256Hex } from '../../adapters/master/atomic-file.js';
import { DuckDbBatchEngine } from '../../adapters/duckdb/duckdb-engine.js';
import { COMPACTED_DIR } from '../../adapters/duckdb/compaction.js';
import { runWiredBatch } from '../../cli/batch-wiring.js';
import { referenceEngine } from '../../cli/batch-engines.js';
import { silentLogger } from '../../platform/logger.js';
import { loadViews } from '../../shared/views/load.js';
import { T0, writeCheckpoints, writeSegments } from '../support/batch-master.js';
import { runFileContent } from '../support/run-file-content.js';
import { HOSTILE_VIEWS_JSON, hostileStream } from '../support/hostile-lines.js';
import { testContext, type TestContext } from '../support/context.js';

describe('compacted segments', () => {
  let ctx: TestContext;
  const views = loadViews(HOSTILE_VIEWS_JSON, 'differential views');
  const lines = hostileStream();

  beforeEach(() => {
    ctx = testContext({ LAMBDA_BATCH_WORKERS: '2', LAMBDA_TOPIC_PARTITIONS: '2', LAMBDA_BATCH_MEMORY_MB: '256' });
  });
  afterEach(() => ctx.cleanup());

  const engine = () => new DuckDbBatchEngine({ threads: 2, memoryMb: 256, workDir: join(ctx.config.batch.dir, 'duckdb'), fileDelayMs: 0, compact: true });
  const run = (e: DuckDbBatchEngine | ReturnType<typeof referenceEngine>, master: LocalMasterDataset, v = views) =>
    runWiredBatch({ config: ctx.config, views: v, master, log: silentLogger(), engine: e });
  const content = (runId: string) => runFileContent(join(ctx.config.batch.dir, 'runs', `${runId}.sqlite`));
  const expectSameRunFile = (actual: string, expected: string) => {
    const a = content(expected);
    const b = content(actual);
    for (const key of Object.keys(a)) expect(b[key], `run file table ${key}`).toEqual(a[key]);
  };

  /**
   * Four segments, compacted by a first run of the duckdb engine. `replaceFirst` replaces the first
   * segment as an operator would (MasterDataset.writeSegment `replacing`); `rerun` runs again,
   * expecting that segment alone compacted again and the reference engine's run file.
   */
  const compactedOnce = async () => {
    const master = new LocalMasterDataset(fileURLToPath(ctx.config.masterUrl));
    const topic = ctx.config.kafka.topic;
    const files = await writeSegments(master, lines, { topic, files: 4, partitions: 2 });
    await writeCheckpoints(master, topic, 2, T0 + 3 * 86_400_000);
    const duckdb = engine();
    await run(duckdb, master);
    expect(duckdb.lastCompaction).toEqual({ read: 0, written: 4, errors: [] });
    const first = files[0] as (typeof files)[number];
    const firstPath = master.localPath(first.key);
    return {
      firstPath,
      firstLines: lines.slice(0, Math.ceil(lines.length / 4)),
      replaceFirst: (replacement: string[]) =>
        master.writeSegment(
          { topic, partition: first.partition, firstOffset: first.firstOffset, arrivalTs: T0, lines: replacement },
          { replacing: sha256Hex(readFileSync(firstPath)) },
        ),
      rerun: async () => {
        const duck = await run(duckdb, master);
        expect(duckdb.lastCompaction).toEqual({ read: 3, written: 1, errors: [] });
        const ref = await run(referenceEngine(ctx.config), master);
        expect(duck.counts).toEqual(ref.counts);
        expectSameRunFile(duck.runId, ref.runId);
        return duck;
      },
    };
  };

  it('never reads the compacted file of a segment replaced since: that segment is read and compacted again', async () => {
    const { firstLines, replaceFirst, rerun } = await compactedOnce();
    // Its first half only, so the old compacted file would count events that are no longer there.
    await replaceFirst(firstLines.slice(0, firstLines.length / 2));
    const duck = await rerun();
    expect(duck.counts.eventsRead).toBeLessThan(lines.length);
  });

  it('tells a replacement of the same size apart by its mtime', async () => {
    const { firstPath, firstLines, replaceFirst, rerun } = await compactedOnce();
    const oldSize = statSync(firstPath).size;
    await replaceFirst(equalSizeReplacement(firstLines.slice(0, firstLines.length / 2), oldSize));
    expect(statSync(firstPath).size).toBe(oldSize);
    await rerun();
  });

  it('keeps the same copy of an id between files from compacted files as from the JSON (the first in listing order)', async () => {
    const master = new LocalMasterDataset(fileURLToPath(ctx.config.masterUrl));
    const topic = ctx.config.kafka.topic;
    // Ten ids in every one of four files, each file's copy on its own URL: which copy is kept is
    // which URL counts them. The files' own ids fill the rest.
    const perFile = (f: number) =>
      Array.from(
        { length: 20 },
        (_, i) => `{"id":"${i < 10 ? `same-${i}` : `f${f}-${i}`}","ts":${T0 + i * 1000},"type":"pageview","user":"u${i}","url":"/from-file-${f}"}`,
      );
    const byUrl = loadViews(
      JSON.stringify({
        views: [
          { name: 'by_url', granularities: ['hour'], dimensions: ['url'], measures: { n: { type: 'count' }, users: { type: 'distinct', field: 'user' } } },
        ],
      }),
      'one view by url',
    );
    await writeSegments(master, [0, 1, 2, 3].flatMap(perFile), { topic, files: 4, partitions: 2 });
    await writeCheckpoints(master, topic, 2, T0 + 3 * 86_400_000);
    const duckdb = engine();
    const fromJson = await run(duckdb, master, byUrl);
    expect(duckdb.lastCompaction).toEqual({ read: 0, written: 4, errors: [] });
    const fromCompacted = await run(duckdb, master, byUrl);
    expect(duckdb.lastCompaction).toEqual({ read: 4, written: 0, errors: [] });
    expect(fromCompacted.counts.duplicatesDifferingPayload).toBe(30);
    expectSameRunFile(fromCompacted.runId, fromJson.runId);
    // One file keeps all ten (20 events on its URL; 10 on each other one), whichever source: the
    // first in listing order, as from the JSON.
    const urls = (content(fromCompacted.runId).view_by_url as string[]).map((r) => JSON.parse(r) as [string, number, string, number, number]);
    expect(urls.map(([, , , n]) => n).sort()).toEqual([10, 10, 10, 20]);
    const firstKey = (await master.listFiles())[0]?.key as string;
    let firstLine = '';
    for await (const line of master.readLines(firstKey)) {
      firstLine = line;
      break;
    }
    expect(urls.find(([, , , n]) => n === 20)?.[2]).toBe((JSON.parse(firstLine) as { url: string }).url);
  });

  it('never reads the compacted files of other views: each view set has its own', async () => {
    const root = fileURLToPath(ctx.config.masterUrl);
    const master = new LocalMasterDataset(root);
    const topic = ctx.config.kafka.topic;
    await writeSegments(master, lines, { topic, files: 3, partitions: 2 });
    await writeCheckpoints(master, topic, 2, T0 + 3 * 86_400_000);
    const duckdb = engine();
    await run(duckdb, master);
    expect(duckdb.lastCompaction).toEqual({ read: 0, written: 3, errors: [] });

    // One more view: the validation SQL changes, so does the folder of compacted files.
    const json = JSON.parse(HOSTILE_VIEWS_JSON) as { views: Record<string, unknown>[] };
    json.views.push({ name: 'extra', granularities: ['hour'], dimensions: ['country'], measures: { n: { type: 'count' } } });
    const more = loadViews(JSON.stringify(json), 'one more view');
    const duck = await run(duckdb, master, more);
    expect(duckdb.lastCompaction).toEqual({ read: 0, written: 3, errors: [] });
    expect(readdirSync(join(root, COMPACTED_DIR))).toHaveLength(2);
    const ref = await run(referenceEngine(ctx.config), master, more);
    expect(duck.counts).toEqual(ref.counts);
    expectSameRunFile(duck.runId, ref.runId);
    // The master's own segments are untouched: the compacted files live apart.
    for (const f of await master.listFiles()) expect(existsSync(master.localPath(f.key))).toBe(true);
    expect((await master.listFiles()).length).toBe(3);
  });
});

/**
 * `half` plus one padding line, its length searched until the gzip (as LocalMasterDataset writes
 * it) is exactly `size` bytes, so a replacement differs from the old segment in its mtime only.
 */
function equalSizeReplacement(half: readonly string[], size: number): string[] {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';
  let seed = 7;
  let noise = '';
  for (let i = 0; i < 200_000; i++) {
    // xorshift32: incompressible enough that each letter adds most of its six bits to the gzip
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    noise += letters[(seed >>> 0) % 64];
  }
  const withPad = (n: number) => [...half, JSON.stringify({ id: 'equal-size-pad', ts: T0, pad: noise.slice(0, n) })];
  const gzipped = (n: number) => gzipSync(`${withPad(n).join('\n')}\n`).length;
  // The size grows with the padding, almost monotonically: bisect to where it reaches `size`,
  // then look around that point for an exact match.
  let lo = 0;
  let hi = noise.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (gzipped(mid) < size) lo = mid + 1;
    else hi = mid;
  }
  for (let n = Math.max(0, lo - 300); n < Math.min(noise.length, lo + 300); n++) if (gzipped(n) === size) return withPad(n);
  throw new Error(`no padding gives a gzip of ${size} bytes`);
}
