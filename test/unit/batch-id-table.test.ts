import { describe, expect, it } from 'vitest';
import { IdTable } from '../../batch-layer/run/id-table.js';
import { fnv1a32 } from '../../batch-layer/run/fingerprint.js';

/** Adds `id` unless present; returns whether it was new. */
function add(t: IdTable, id: string, hash = fnv1a32(id), payload = 0): boolean {
  const p = t.probe(id, hash);
  if (p.found) return false;
  expect(t.insert(p.slot, id, hash, payload)).toBe(true);
  return true;
}

describe('IdTable (typed-array id set of the batch dedupe)', () => {
  it('stays exact through many doublings', () => {
    const t = new IdTable();
    const ids = Array.from({ length: 50_000 }, (_, i) => `id-${i}`);
    expect(ids.every((id) => add(t, id))).toBe(true);
    expect(ids.every((id) => !add(t, id))).toBe(true);
    expect(t.size).toBe(ids.length);
    expect(t.bytes).toBeGreaterThan(0);
  });

  it('tells ids apart when every hash collides (equality is on the characters, never the hash)', () => {
    const t = new IdTable();
    const ids = ['', 'a', 'A', 'é', 'e\u0301', '\u0141', 'Ł', '\u0101', '\u0001\u0001', '\u0101', 'a\u0000', 'a\u0000\u0000', '🙂', '\ud83d'];
    const added = ids.map((id) => add(t, id, 7));
    // '\u0141' === 'Ł' and '\u0101' twice: the same strings, so not new
    expect(added).toEqual([true, true, true, true, true, true, false, true, true, false, true, true, true, true]);
    for (let i = 0; i < 3000; i++) expect(add(t, `x${i}`, 7)).toBe(true);
    expect(ids.every((id) => t.probe(id, 7).found)).toBe(true);
    expect(t.probe('x2999', 7).found).toBe(true);
    expect(t.probe('x3000', 7).found).toBe(false);
  });

  it("keeps each id's payload hash", () => {
    const t = new IdTable();
    add(t, 'a', fnv1a32('a'), 11);
    add(t, 'b\u0400', fnv1a32('b\u0400'), 0xffffffff);
    const a = t.probe('a', fnv1a32('a'));
    const b = t.probe('b\u0400', fnv1a32('b\u0400'));
    expect(a.found && t.payloadOf(a.entry)).toBe(11);
    expect(b.found && t.payloadOf(b.entry)).toBe(0xffffffff);
  });
});
