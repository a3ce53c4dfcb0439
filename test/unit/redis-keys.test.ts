import { describe, expect, it } from 'vitest';
import {
  allKeyPatterns,
  bucketIndexKey,
  decodeDims,
  dimsIndexKey,
  distinctHllKey,
  encodeDims,
  groupHashKey,
  partitionStateKey,
  seenKey,
  type Dims,
} from '../../adapters/redis/keys.js';
import { rand } from './_prng.js';

/** Redis Cluster's rule: the slot is hashed from the text between the first '{' and the next '}'. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  return close < 0 || close === open + 1 ? key : key.slice(open + 1, close);
}

const NASTY = ['', ':', '::', '{', '}', '{x}', 'null', '"', '\\', '[', ']', ',', 'a:b{c}d', '\u0000', '🙂', '\ud800', 'é', ' ', '*', '?'];

function randomDims(r: ReturnType<typeof rand>): Dims {
  const n = r.int(0, 4);
  return Array.from({ length: n }, () => {
    if (r.chance(0.2)) return null;
    let s = '';
    const len = r.int(0, 6);
    for (let i = 0; i < len; i++) s += r.chance(0.5) ? r.pick(NASTY) : String.fromCharCode(r.int(32, 126));
    return s;
  });
}

describe('dims encoding in keys', () => {
  it('round-trips every tuple, keeping null distinct from "null"', () => {
    const r = rand(7);
    for (let i = 0; i < 2000; i++) {
      // Exact, lone surrogates included: JSON.stringify escapes them as \uD800 before UTF-8.
      const dims = randomDims(r);
      expect(decodeDims(encodeDims(dims))).toEqual(dims);
    }
    expect(encodeDims([null])).not.toBe(encodeDims(['null']));
    expect(encodeDims([])).not.toBe(encodeDims(['']));
    expect(encodeDims(['a', 'b'])).not.toBe(encodeDims(['a,b']));
  });

  it('is injective and never contains a separator or a brace', () => {
    const r = rand(11);
    const seen = new Map<string, string>();
    for (let i = 0; i < 3000; i++) {
      const dims = randomDims(r);
      const enc = encodeDims(dims);
      expect(enc).toMatch(/^[A-Za-z0-9_-]*$/);
      const before = seen.get(enc);
      if (before !== undefined) expect(before).toBe(JSON.stringify(dims));
      seen.set(enc, JSON.stringify(dims));
    }
  });

  it('keeps the key format: fixed components, and the partition hash tag decides the slot', () => {
    const r = rand(3);
    for (let i = 0; i < 500; i++) {
      const dims = randomDims(r);
      const ref = { view: 'pageviews', granularity: 'minute' as const, bucketStart: 1_700_000_040_000, dims };
      const g = groupHashKey('la', 3, ref);
      const h = distinctHllKey('la', 3, ref, 'visitors');
      expect(g.split(':')).toEqual(['{la', 'p3}', 'g', 'pageviews', 'minute', '1700000040000', encodeDims(dims)]);
      expect(h.split(':')).toHaveLength(8);
      for (const k of [g, h, bucketIndexKey('la', 3, 'pageviews', 'minute'), dimsIndexKey('la', 3, 'pageviews', 'minute', 0), partitionStateKey('la', 3)]) {
        expect(hashTag(k)).toBe('la:p3');
      }
    }
  });

  it('puts an event id last, so even braces in it cannot move the key to another slot', () => {
    for (const id of NASTY) expect(hashTag(seenKey('la', 0, id))).toBe('la:p0');
    expect(seenKey('la', 0, 'a:b')).toBe('{la:p0}:seen:a:b');
  });

  it('gives patterns that match only its own prefix', () => {
    const [tagged, plain] = allKeyPatterns('t-1');
    expect(tagged).toBe('{t-1:*');
    expect(plain).toBe('t-1:*');
    // "t-1" must not match the keys of "t-10": the ':' right after the prefix sees to that.
    expect(partitionStateKey('t-10', 0).startsWith('{t-1:')).toBe(false);
  });
});
