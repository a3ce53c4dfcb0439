/**
 * Master datasets for batch tests, written through the MasterDataset port (LocalMasterDataset),
 * plus the comparison of a published batch run with shared/reference-fold.ts.
 */
import { expect } from 'vitest';
import { clickstream, type GeneratorOptions } from '../../shared/generator/clickstream.js';
import { groupKey } from '../../shared/aggregate/aggregate.js';
import { referenceFold } from '../../shared/reference-fold.js';
import type { MasterDataset, MasterFile } from '../../shared/ports.js';
import { bucketsInRange, granularityMs } from '../../shared/time.js';
import type { ViewSet } from '../../shared/views/definition.js';
import type { RunFileReader } from '../../adapters/sqlite/run-file-reader.js';

export const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);

/** `n` raw lines from the seeded clickstream (events, late, duplicates, invalid mixed). */
export function clickstreamLines(n: number, opts: Partial<GeneratorOptions> = {}): string[] {
  const out: string[] = [];
  for (const r of clickstream({
    seed: 7,
    startTs: T0,
    rate: 20,
    lateFraction: 0.05,
    duplicateFraction: 0.05,
    invalidFraction: 0.03,
    urls: 40,
    users: 300,
    purchaseFraction: 0.15,
    ...opts,
  })) {
    out.push(r.value);
    if (out.length >= n) break;
  }
  return out;
}

/** More lines than any fixture segment holds: a checkpoint at firstOffset + this covers the segment. */
const MAX_SEGMENT_LINES = 10_000_000;

/**
 * Writes `lines` as `files` segments spread round-robin over `partitions` partitions of `topic`
 * (consecutive slices, so a duplicate can land in another file than its original), one arrival
 * hour per `filesPerHour` files. Returns the files written.
 */
export async function writeSegments(
  master: MasterDataset,
  lines: readonly string[],
  opts: { topic: string; files: number; partitions?: number; arrivalTs?: number },
): Promise<MasterFile[]> {
  const partitions = opts.partitions ?? 2;
  const per = Math.ceil(lines.length / opts.files);
  const nextOffset = new Array<number>(partitions).fill(0);
  const written: MasterFile[] = [];
  for (let i = 0; i < opts.files; i++) {
    const slice = lines.slice(i * per, (i + 1) * per);
    const partition = i % partitions;
    const firstOffset = nextOffset[partition] as number;
    nextOffset[partition] = firstOffset + slice.length;
    const arrivalTs = (opts.arrivalTs ?? T0) + i * 60_000;
    written.push(await master.writeSegment({ topic: opts.topic, partition, firstOffset, arrivalTs, lines: slice }));
  }
  return written;
}

/**
 * A checkpoint for every partition of `topic`, all complete through `completeThrough`, vouching
 * for every segment written so far (a run reads only segments at or below a checkpoint).
 */
export async function writeCheckpoints(master: MasterDataset, topic: string, partitions: number, completeThrough: number): Promise<void> {
  const files = await master.listFiles();
  for (let partition = 0; partition < partitions; partition++) {
    const mine = files.filter((f) => f.topic === topic && f.partition === partition);
    const lastOffset = mine.length === 0 ? -1 : Math.max(...mine.map((f) => f.firstOffset)) + MAX_SEGMENT_LINES;
    await master.writeCheckpoint({ topic, partition, lastOffset, completeThrough, updatedAt: completeThrough });
  }
}

/**
 * Every bucket of every view at every granularity in the run equals the reference fold of the
 * same raw lines, and the run has no group the reference lacks. Returns the groups compared.
 * `range`: the time range the data can touch (default: around T0; late events go back at most 30 minutes).
 */
export function expectRunEqualsReference(
  run: RunFileReader,
  views: ViewSet,
  lines: readonly string[],
  range: { from: number; to: number } = { from: T0 - 2 * 86_400_000, to: T0 + 2 * 86_400_000 },
): number {
  const truth = referenceFold(lines, views);
  const seen = new Set<string>();
  for (const view of views.views) {
    for (const g of view.granularities) {
      const { from, to } = range;
      expect(bucketsInRange(from, to, g, 1e7).length).toBeGreaterThan(0);
      for (const row of run.series({ view: view.name, granularity: g, from, to })) {
        const key = groupKey(view.name, g, row.bucketStart, row.dims);
        expect(row.bucketStart % granularityMs(g)).toBe(0);
        expect(row.values, `group ${key}`).toEqual(truth.get(key));
        seen.add(key);
      }
    }
  }
  const missing = [...truth.keys()].filter((k) => !seen.has(k));
  expect(missing, 'groups in the reference but not in the run').toEqual([]);
  return seen.size;
}
