/** The archiver's central property, as one assertion shared by the in-process and crash tests. */
import { expect } from 'vitest';
import { parseSegmentKey } from '../../shared/master/layout.js';
import { parseEventLine } from '../../shared/events.js';
import type { MasterDataset } from '../../shared/ports.js';
import type { ViewSet } from '../../shared/views/definition.js';
import type { TopicRecord } from './archiver-kafka.js';
import { readMaster } from './master-read.js';

export function isValidRecord(r: TopicRecord, views: ViewSet): boolean {
  return r.value !== null && parseEventLine(r.value, views).ok;
}

/**
 * Per partition, the master dataset's lines (segments in offset order) equal the partition's valid
 * records in offset order: nothing missing, nothing doubled, nothing reordered. Duplicate events
 * sent as separate records stay separate records.
 */
export async function expectExactArchive(master: MasterDataset, topic: string, truth: readonly TopicRecord[], views: ViewSet): Promise<void> {
  const { files, lines } = await readMaster(master);
  for (const p of new Set(truth.map((r) => r.partition))) {
    const expected = truth.filter((r) => r.partition === p && isValidRecord(r, views)).map((r) => (r.value as string).replace(/[\r\n]/g, ' '));
    const actual = lines.get(`${topic}-${p}`) ?? [];
    expect(actual.length, `partition ${p}: number of archived records`).toBe(expected.length);
    expect(actual, `partition ${p}`).toEqual(expected);
  }
  for (const f of files) expect(parseSegmentKey(f.key), f.key).not.toBeNull();
}
