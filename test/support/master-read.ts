/** Reads a master dataset back for assertions: the lines of every segment, per topic-partition. */
import type { MasterDataset, MasterFile } from '../../shared/ports.js';

export interface MasterContents {
  files: MasterFile[];
  /** `<topic>-<partition>` -> the lines of its segments concatenated in offset order */
  lines: Map<string, string[]>;
  total: number;
}

export async function readMaster(master: MasterDataset): Promise<MasterContents> {
  const files = await master.listFiles();
  // Log order within a partition (keys sort by arrival hour first, so not simply by key).
  const ordered = [...files].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition || a.firstOffset - b.firstOffset));
  const lines = new Map<string, string[]>();
  let total = 0;
  for (const f of ordered) {
    const id = `${f.topic}-${f.partition}`;
    const list = lines.get(id) ?? [];
    lines.set(id, list);
    for await (const line of master.readLines(f.key)) {
      list.push(line);
      total++;
    }
  }
  return { files, lines, total };
}

/** Multiset difference summary, for readable failures: what is missing and what is extra. */
export function multisetDiff(expected: readonly string[], actual: readonly string[]): { missing: string[]; extra: string[] } {
  const counts = new Map<string, number>();
  for (const e of expected) counts.set(e, (counts.get(e) ?? 0) + 1);
  const extra: string[] = [];
  for (const a of actual) {
    const c = counts.get(a) ?? 0;
    if (c === 0) extra.push(a);
    else counts.set(a, c - 1);
  }
  const missing = [...counts].flatMap(([v, c]) => Array.from({ length: c }, () => v));
  return { missing, extra };
}

/** Whether the checkpoints of `topic` cover every offset below `ends` (partition -> end offset). */
export async function checkpointsCover(master: MasterDataset, topic: string, ends: ReadonlyMap<number, number>): Promise<boolean> {
  const cps = (await master.readCheckpoints()).filter((c) => c.topic === topic);
  return [...ends].every(([p, end]) => {
    const cp = cps.find((c) => c.partition === p);
    return cp !== undefined && cp.lastOffset + 1 >= end;
  });
}
