import { describe, expect, it } from 'vitest';
import {
  HLL_SHARD_BUCKETS,
  allKeyPatterns,
  bucketHashKey,
  bucketIndexKey,
  claimHashKey,
  claimHour,
  decodeDims,
  distinctHllKey,
  encodeDims,
  groupField,
  hllTag,
  partitionStateKey,
  splitGroupField,
  type Dims,
} from '../../adapters/redis/keys.js';
import { HOUR_MS } from '../../shared/time.js';
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

  it('keeps the key format: the bucket hash, index and state of a partition share its hash tag', () => {
    const r = rand(3);
    for (let i = 0; i < 500; i++) {
      const dims = randomDims(r);
      const enc = encodeDims(dims);
      const hash = bucketHashKey('la', 3, 'pageviews', 'minute', 1_700_000_040_000);
      expect(hash.split(':')).toEqual(['{la', 'p3}', 'v', 'pageviews', 'minute', '1700000040000']);
      for (const k of [hash, bucketIndexKey('la', 3, 'pageviews', 'minute'), partitionStateKey('la', 3)]) expect(hashTag(k)).toBe('la:p3');
      // A group's field splits back into its dims and its measure, whatever the dims hold.
      expect(splitGroupField(groupField(enc, 'visitors'))).toEqual([enc, 'visitors']);
      expect(splitGroupField(groupField(enc, '_late'))).toEqual([enc, '_late']);
    }
  });

  it('puts every HLL of a run of buckets in one slot, whatever the dims, and the next run in another', () => {
    const r = rand(5);
    const minute = 60_000;
    const base = Math.floor(1_700_000_000_000 / (minute * HLL_SHARD_BUCKETS)) * minute * HLL_SHARD_BUCKETS;
    const tags = new Set<string>();
    for (let b = 0; b < HLL_SHARD_BUCKETS; b++) {
      const ref = { view: 'pageviews', granularity: 'minute' as const, bucketStart: base + b * minute, dims: randomDims(r) };
      tags.add(hashTag(distinctHllKey('la', ref, 'visitors')));
    }
    expect([...tags]).toEqual([hashTag(hllTag('la', 'pageviews', 'minute', base))]);
    expect(hllTag('la', 'pageviews', 'minute', base + HLL_SHARD_BUCKETS * minute)).not.toBe(hllTag('la', 'pageviews', 'minute', base));
    expect(hllTag('la', 'pageviews', 'hour', base)).not.toBe(hllTag('la', 'pageviews', 'minute', base));
  });

  it('keeps event ids out of key names: claims are fields of one hash per event hour', () => {
    const ts = Date.UTC(2024, 4, 1, 12, 34, 56);
    expect(claimHour(ts)).toBe(Date.UTC(2024, 4, 1, 12));
    expect(claimHour(Date.UTC(2024, 4, 1, 13) - 1)).toBe(Date.UTC(2024, 4, 1, 12));
    expect(claimHour(Date.UTC(2024, 4, 1, 13))).toBe(Date.UTC(2024, 4, 1, 12) + HOUR_MS);
    expect(claimHashKey('la', claimHour(ts))).toBe(`{la:d:${Date.UTC(2024, 4, 1, 12)}}`);
  });

  it('gives patterns that match only its own prefix', () => {
    const [tagged, plain] = allKeyPatterns('t-1');
    expect(tagged).toBe('{t-1:*');
    expect(plain).toBe('t-1:*');
    // "t-1" must not match the keys of "t-10": the ':' right after the prefix sees to that.
    expect(partitionStateKey('t-10', 0).startsWith('{t-1:')).toBe(false);
  });
});
