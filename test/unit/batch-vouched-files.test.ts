import { describe, expect, it } from 'vitest';
import { runSnapshot, vouchedFiles } from '../../batch-layer/run/completeness.js';
import type { Checkpoint, MasterFile } from '../../shared/ports.js';

const file = (topic: string, partition: number, firstOffset: number): MasterFile => ({
  key: `events/arrival=2024-05-01T12/${topic}-${partition}-${String(firstOffset).padStart(20, '0')}.jsonl.gz`,
  arrivalHour: '2024-05-01T12',
  topic,
  partition,
  firstOffset,
  sizeBytes: 100,
});
const checkpoint = (topic: string, partition: number, lastOffset: number): Checkpoint => ({ topic, partition, lastOffset, completeThrough: 1, updatedAt: 1 });

describe('what a batch run reads', () => {
  it('reads exactly the segments its checkpoints vouch for, and leaves later ones to the next run', () => {
    const files = [file('events', 0, 0), file('events', 0, 100), file('events', 0, 250), file('events', 1, 0), file('events', 1, 40), file('import.ab', 0, 0)];
    const checkpoints = [checkpoint('events', 0, 249), checkpoint('events', 1, 39), checkpoint('import.ab', 0, 999)];
    // events-0-250 was written after the checkpoints were read (or is an orphan of a crashed flush);
    // events-1-40 likewise: neither is behind its partition's checkpoint.
    expect(vouchedFiles(files, checkpoints).map((f) => `${f.topic}-${f.partition}-${f.firstOffset}`)).toEqual([
      'events-0-0',
      'events-0-100',
      'events-1-0',
      'import.ab-0-0',
    ]);
  });

  it('reads the segments of a partition with no checkpoint (its completeness is unknown, W waits)', () => {
    expect(vouchedFiles([file('events', 3, 0)], [checkpoint('events', 0, 10)])).toHaveLength(1);
  });

  it('records per partition of the event topic the last offset it read, and when', () => {
    const snap = runSnapshot('events', [checkpoint('events', 0, 249), checkpoint('events', 1, 39), checkpoint('import.ab', 0, 999)], 1234);
    expect(snap).toEqual({ at: 1234, through: { '0': 249, '1': 39 } });
  });
});
