import { describe, expect, it } from 'vitest';
import { arrivalComplete } from '../../shared/master/arrival-complete.js';
import type { Checkpoint } from '../../shared/ports.js';

const cp = (topic: string, partition: number, completeThrough: number): Checkpoint => ({
  topic,
  partition,
  lastOffset: 10,
  completeThrough,
  updatedAt: completeThrough,
});

describe('arrivalComplete (A = min over partitions of completeThrough)', () => {
  it('is the minimum over all partitions of the topic', () => {
    const cps = [cp('ev', 0, 5_000), cp('ev', 1, 3_000), cp('ev', 2, 9_000)];
    expect(arrivalComplete(cps, { topic: 'ev', partitions: 3 })).toBe(3_000);
  });

  it('is unknown (null) while any partition has no checkpoint', () => {
    const cps = [cp('ev', 0, 5_000), cp('ev', 2, 9_000)];
    expect(arrivalComplete(cps, { topic: 'ev', partitions: 3 })).toBeNull();
    expect(arrivalComplete([], { topic: 'ev', partitions: 1 })).toBeNull();
  });

  it('ignores other topics, such as import pseudo topics, even when they are older', () => {
    const cps = [cp('ev', 0, 5_000), cp('ev', 1, 6_000), cp('import.0123456789abcdef', 0, 1), cp('other', 0, 2)];
    expect(arrivalComplete(cps, { topic: 'ev', partitions: 2 })).toBe(5_000);
  });

  it('ignores checkpoints of partitions beyond the partition count', () => {
    const cps = [cp('ev', 0, 5_000), cp('ev', 1, 1)];
    expect(arrivalComplete(cps, { topic: 'ev', partitions: 1 })).toBe(5_000);
  });
});
