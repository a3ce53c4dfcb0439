import { describe, expect, it } from 'vitest';
import { IdDeduper } from '../../batch-layer/run/dedupe.js';
import { fnv1a32 } from '../../batch-layer/run/fingerprint.js';

/** What a worker sends for a chunk of (id, raw line) pairs. */
function check(d: IdDeduper, records: [string, string][]): number[] {
  const ids = records.map(([id]) => id);
  return [
    ...d.check(
      ids,
      Uint32Array.from(ids, fnv1a32),
      Uint32Array.from(records, ([, line]) => fnv1a32(line)),
    ),
  ];
}

describe('exact id dedupe (main thread)', () => {
  it('keeps the first occurrence across chunks and within a chunk', () => {
    const d = new IdDeduper(1000);
    expect(
      check(d, [
        ['a', 'A'],
        ['b', 'B'],
        ['a', 'A'],
      ]),
    ).toEqual([1, 1, 0]);
    expect(
      check(d, [
        ['b', 'B'],
        ['c', 'C'],
      ]),
    ).toEqual([0, 1]);
    expect(check(d, [])).toEqual([]);
    expect(d.size).toBe(3);
    expect(d.duplicates).toBe(2);
    expect(d.differingPayload).toBe(0);
  });

  it('compares full ids, whatever characters they hold (newlines, quotes, unicode, hash collisions)', () => {
    const d = new IdDeduper(1000);
    const ids = ['x\ny', 'x', 'y', 'x\\ny', '"x"', 'é', 'e\u0301', ''];
    expect(
      check(
        d,
        ids.map((id) => [id, id]),
      ),
    ).toEqual(ids.map(() => 1));
    // A forged id hash (shard) must not make two different ids equal, or one id two.
    const forged = d.check(['x\ny', 'new'], Uint32Array.from([fnv1a32('x\ny'), fnv1a32('x\ny')]), Uint32Array.from([0, 0]));
    expect([...forged]).toEqual([0, 1]);
  });

  it('counts duplicates whose payload differs from the kept record', () => {
    const d = new IdDeduper(1000);
    check(d, [['a', '{"id":"a","v":1}']]);
    expect(
      check(d, [
        ['a', '{"id":"a","v":2}'],
        ['a', '{"id":"a","v":1}'],
      ]),
    ).toEqual([0, 0]);
    expect(d.duplicates).toBe(2);
    expect(d.differingPayload).toBe(1);
  });

  it('fails with DEDUPE_BUDGET_EXCEEDED naming the setting when one id more would not fit', () => {
    const d = new IdDeduper(3);
    expect(
      check(d, [
        ['a', ''],
        ['b', ''],
        ['c', ''],
        ['a', ''],
      ]),
    ).toEqual([1, 1, 1, 0]);
    expect(() => check(d, [['d', '']])).toThrow(
      expect.objectContaining({ code: 'DEDUPE_BUDGET_EXCEEDED', details: { setting: 'LAMBDA_BATCH_DEDUPE_MAX_IDS', maxIds: 3 } }),
    );
  });

  it('spreads ids over shards and stays exact (100k ids, twice)', () => {
    const d = new IdDeduper(300_000);
    const ids = Array.from({ length: 100_000 }, (_, i) => `e-${i}`);
    const hashes = Uint32Array.from(ids, fnv1a32);
    expect(d.check(ids, hashes, new Uint32Array(ids.length)).every((k) => k === 1)).toBe(true);
    expect(d.check(ids, hashes, new Uint32Array(ids.length)).every((k) => k === 0)).toBe(true);
    expect(d.size).toBe(100_000);
  });
});
