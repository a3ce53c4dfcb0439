/**
 * The HyperLogLog module's own arithmetic (issue 16): MurmurHash64A on 32-bit halves equals a
 * plain BigInt transcription of the algorithm; registers round-trip through Redis's dense and
 * sparse formats. Against Redis itself: test/integration/hll-redis.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { murmurHash64A } from '../../shared/hll/murmur64a.js';
import { HLL_REGISTERS, HyperLogLog, registerOf } from '../../shared/hll/hll.js';
import { fromRedis, toRedis, toRedisDense, toRedisSparse } from '../../shared/hll/hll-format.js';
import { rand } from './_prng.js';

const MASK = (1n << 64n) - 1n;
/** MurmurHash64A as published, in BigInt: the reference the fast version must equal. */
function murmurBig(data: Uint8Array, seed: number): bigint {
  const m = 0xc6a4a7935bd1e995n;
  let h = (BigInt(seed) ^ ((BigInt(data.length) * m) & MASK)) & MASK;
  const blocks = data.length - (data.length & 7);
  for (let i = 0; i < blocks; i += 8) {
    let k = 0n;
    for (let j = 7; j >= 0; j--) k = (k << 8n) | BigInt(data[i + j]!);
    k = (k * m) & MASK;
    k ^= k >> 47n;
    k = (k * m) & MASK;
    h ^= k;
    h = (h * m) & MASK;
  }
  const rest = data.length & 7;
  if (rest > 0) {
    for (let j = rest - 1; j >= 0; j--) h ^= BigInt(data[blocks + j]!) << BigInt(8 * j);
    h = (h * m) & MASK;
  }
  h ^= h >> 47n;
  h = (h * m) & MASK;
  h ^= h >> 47n;
  return h;
}

describe('MurmurHash64A', () => {
  it('equals the BigInt transcription on random inputs of every tail length', () => {
    const r = rand(64);
    for (let n = 0; n < 2000; n++) {
      const data = Uint8Array.from({ length: r.int(0, 40) }, () => r.int(0, 255));
      const seed = r.chance(0.5) ? 0xadc83b19 : r.int(0, 0xffffffff);
      const [hi, lo] = murmurHash64A(data, seed);
      expect((BigInt(hi) << 32n) | BigInt(lo), `input ${Buffer.from(data).toString('hex')}`).toBe(murmurBig(data, seed));
    }
  });

  it('register index and count follow the hash: low 14 bits, then trailing zeros + 1 of the rest', () => {
    const r = rand(7);
    for (let n = 0; n < 2000; n++) {
      const member = `m${r.int(0, 1e9)}`;
      const h = murmurBig(new TextEncoder().encode(member), 0xadc83b19);
      let rest = (h >> 14n) | (1n << 50n);
      let count = 1;
      while ((rest & 1n) === 0n) {
        count++;
        rest >>= 1n;
      }
      expect(registerOf(member)).toEqual({ index: Number(h & 16383n), count });
    }
  });
});

describe('Redis HLL format', () => {
  it('dense and sparse round-trip the registers; sparse only while small and every register <= 32', () => {
    const r = rand(99);
    for (const size of [0, 1, 30, 500, 3000, 100_000]) {
      const h = new HyperLogLog();
      for (let i = 0; i < size; i++) h.add(`u${r.int(0, 1e12)}`);
      expect(fromRedis(toRedisDense(h)).registers).toEqual(h.registers);
      const sparse = toRedisSparse(h);
      if (sparse) expect(fromRedis(sparse).registers).toEqual(h.registers);
      expect(fromRedis(toRedis(h)).registers).toEqual(h.registers);
      if (size <= 30) expect(sparse?.length).toBeLessThan(200);
      if (size === 100_000) expect(sparse).toBeNull();
    }
    const high = new HyperLogLog();
    high.registers[5] = 33;
    expect(toRedisSparse(high)).toBeNull();
    expect(fromRedis(toRedis(high)).registers[5]).toBe(33);
    expect(new HyperLogLog().registers).toHaveLength(HLL_REGISTERS);
  });

  it('refuses what is not a Redis HLL', () => {
    expect(() => fromRedis(new Uint8Array(10))).toThrow('HYLL');
    const bad = toRedisSparse(new HyperLogLog())!;
    bad[HEADER_END] = 0x00; // one zero register instead of 16384: runs do not cover the sketch
    expect(() => fromRedis(bad)).toThrow('covers');
  });
});

const HEADER_END = 16;
