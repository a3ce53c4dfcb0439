/**
 * Reads, from the master dataset, the events whose records the log no longer holds (offsets below
 * a partition's log start), and counts them per bucket (shared/kappa/lost-buckets.ts says how a
 * line is matched to its offset). Only the segments of partitions whose log start is above 0 are
 * read, and of those only the ones that begin below it.
 */
import type { MasterDataset, MasterFile } from '../../shared/ports.js';
import { addLostEvents, lostLines } from '../../shared/kappa/lost-buckets.js';
import type { ViewSet } from '../../shared/views/definition.js';

export interface LostEvents {
  /** lostKey(view, g, bucket) -> events */
  buckets: Map<string, number>;
  partitions: { partition: number; logStart: number; events: number }[];
  exact: boolean;
}

export async function readLostEvents(master: MasterDataset, topic: string, logStarts: ReadonlyMap<number, number>, views: ViewSet): Promise<LostEvents> {
  const out: LostEvents = { buckets: new Map(), partitions: [], exact: true };
  const trimmed = [...logStarts].filter(([, start]) => start > 0).sort(([a], [b]) => a - b);
  if (trimmed.length === 0) return out;
  const [files, checkpoints] = await Promise.all([master.listFiles(), master.readCheckpoints()]);
  for (const [partition, logStart] of trimmed) {
    // One file per first offset (a crash replay may have left the same segment in two arrival folders).
    const byFirst = new Map<number, MasterFile>();
    for (const f of files) if (f.topic === topic && f.partition === partition && !byFirst.has(f.firstOffset)) byFirst.set(f.firstOffset, f);
    const segs = [...byFirst.values()].sort((a, b) => a.firstOffset - b.firstOffset);
    const cp = checkpoints.find((c) => c.topic === topic && c.partition === partition);
    let events = 0;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i] as MasterFile;
      if (seg.firstOffset >= logStart) break;
      const lines: string[] = [];
      for await (const line of master.readLines(seg.key)) lines.push(line);
      const endOffset = segs[i + 1]?.firstOffset ?? (cp ? cp.lastOffset + 1 : seg.firstOffset + lines.length);
      const { lost, exact } = lostLines({ firstOffset: seg.firstOffset, endOffset, lines: lines.length }, logStart);
      if (!exact) out.exact = false;
      events += addLostEvents(lines.slice(0, lost), views, out.buckets);
    }
    out.partitions.push({ partition, logStart, events });
  }
  return out;
}
