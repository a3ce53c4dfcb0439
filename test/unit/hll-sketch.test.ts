/**
 * The fast sketch paths of issue 16 (shared/hll/sketch.ts) against the plain HyperLogLog: bytes
 * written from sorted registers equal toRedis() byte for byte (sparse and dense, every run shape),
 * and a union kept as a map of registers equals PFMERGE's register-wise maximum, with the same
 * estimate. Redis itself is in test/integration/hll-redis.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { HLL_REGISTERS, HyperLogLog } from '../../shared/hll/hll.js';
import { toRedis, toRedisDense } from '../../shared/hll/hll-format.js';
import { BytesArena, HLL_STANDARD_ERROR, SketchUnion, maxPerIndex, packedRegisterOf, redisBytesOfPacked, sketchOfMembers } from '../../shared/hll/sketch.js';
import { PackedUnion } from '../../shared/hll/packed-union.js';
import { rand, type Rand } from './_prng.js';

/** Registers as a batch run sees them: from members, or hand-made with long runs and high values. */
function randomRegisters(r: Rand): HyperLogLog {
  const h = new HyperLogLog();
  switch (r.int(0, 3)) {
    case 0: {
      const n = r.pick([0, 1, 2, 5, 50, 700, 3000, 12_000, 40_000]);
      for (let i = 0; i < n; i++) h.add(`m${r.int(0, 1e12)}`);
      break;
    }
    case 1: {
      // Runs of equal values at consecutive indexes (coalesced into one opcode of up to 4).
      let i = r.int(0, 100);
      while (i < HLL_REGISTERS && r.chance(0.97)) {
        const v = r.int(1, 6);
        for (let k = r.int(1, 9); k > 0 && i < HLL_REGISTERS; k--) h.registers[i++] = v;
        i += r.pick([0, 0, 1, 63, 64, 65, 300, 5000]);
      }
      break;
    }
    case 2:
      // Values past 32 cannot be sparse; 51 is the largest a register holds.
      for (let k = r.int(1, 20); k > 0; k--) h.registers[r.int(0, HLL_REGISTERS - 1)] = r.pick([1, 31, 32, 33, 51]);
      break;
    default:
      h.registers[0] = r.int(1, 32);
      h.registers[HLL_REGISTERS - 1] = r.int(1, 32);
  }
  return h;
}

function packedOf(h: HyperLogLog): number[] {
  const out: number[] = [];
  h.registers.forEach((v, i) => {
    if (v > 0) out.push(i * 64 + v);
  });
  return out;
}

describe('sketches from sorted registers', () => {
  it('write exactly the bytes toRedis writes, sparse and dense', () => {
    const r = rand(1616);
    const seen = { sparse: 0, dense: 0 };
    for (let n = 0; n < 400; n++) {
      const h = randomRegisters(r);
      const bytes = redisBytesOfPacked(packedOf(h));
      expect(Buffer.from(bytes).equals(Buffer.from(toRedis(h))), `case ${n}`).toBe(true);
      seen[bytes[4] === 1 ? 'sparse' : 'dense']++;
    }
    expect(seen.sparse).toBeGreaterThan(50);
    expect(seen.dense).toBeGreaterThan(20);
  }, 60_000);

  it('written into one BytesArena, every sketch keeps its own bytes (none overwrites another) across chunks', () => {
    const r = rand(4242);
    const arena = new BytesArena();
    const written: { bytes: Uint8Array; expected: Buffer }[] = [];
    for (let n = 0; n < 4000; n++) {
      // Mostly a minute's group (up to 800 members: sparse, ~1 KiB), now and then any shape.
      let h = randomRegisters(r);
      if (r.chance(0.8)) {
        h = new HyperLogLog();
        for (let k = r.int(1, 800); k > 0; k--) h.add(`m${r.int(0, 1e12)}`);
      }
      const packed = packedOf(h);
      written.push({ bytes: redisBytesOfPacked(packed, packed.length, arena), expected: Buffer.from(toRedis(h)) });
    }
    // Sparse sketches share chunks (dense ones are 12 KiB arrays of their own).
    const sparse = written.filter((w) => w.bytes[4] === 1);
    const chunks = new Set(sparse.map((w) => w.bytes.buffer));
    expect(chunks.size).toBeGreaterThan(1);
    expect(chunks.size).toBeLessThan(sparse.length / 10);
    written.forEach((w, n) => expect(Buffer.from(w.bytes).equals(w.expected), `sketch ${n}`).toBe(true));
  }, 60_000);

  it('from members: duplicates and any order give the sketch PFADD builds', () => {
    const r = rand(7);
    for (const size of [0, 1, 3, 100, 2500, 9000]) {
      const members = Array.from({ length: size }, () => `u${r.int(0, size * 2)}`);
      const h = new HyperLogLog();
      for (const m of members) h.add(m);
      expect(Buffer.from(sketchOfMembers([...members].reverse())).equals(Buffer.from(toRedis(h))), `${size} members`).toBe(true);
    }
  });

  it('PackedUnion of any parts, in any order, gives the bytes of the register-wise maximum (PFMERGE), twice in a row', () => {
    const r = rand(2024);
    const union = new PackedUnion();
    const unionOfPacked = (parts: number[][]) => {
      for (const p of parts) union.addAll(p);
      return redisBytesOfPacked(union.take());
    };
    for (let n = 0; n < 150; n++) {
      const parts = Array.from({ length: r.int(1, 6) }, () => randomRegisters(r));
      const merged = new HyperLogLog();
      for (const h of parts) h.registers.forEach((v, i) => (merged.registers[i] = Math.max(merged.registers[i]!, v)));
      const shuffled = parts.map((h) => packedOf(h).reverse());
      const expected = Buffer.from(toRedis(merged));
      // Twice: the union's counts must be left clean by the first take.
      expect(Buffer.from(unionOfPacked(shuffled)).equals(expected), `case ${n}`).toBe(true);
      expect(Buffer.from(unionOfPacked(shuffled)).equals(expected), `case ${n}, again`).toBe(true);
    }
  }, 60_000);

  it('PackedUnion: registers added one at a time, repeats and any order, give the sorted maxima, and it is empty after take', () => {
    const r = rand(99);
    const union = new PackedUnion();
    // Sizes on both sides of the 48 touched indexes past which take finds them through its bitmap
    // instead of an insertion sort.
    for (const size of [1, 5, 48, 49, 300, 2049, 7000, 40000]) {
      const packed = Array.from({ length: size }, () => r.int(0, HLL_REGISTERS - 1) * 64 + r.int(1, 40));
      for (const p of packed) union.add(p);
      union.add(0); // a count of 0 adds nothing
      const sorted = [...packed].sort((a, b) => a - b);
      expect([...union.take()], `${size} registers`).toEqual(sorted.slice(0, maxPerIndex(sorted)));
      expect(union.take().length, `${size} registers, then empty`).toBe(0);
    }
  });

  it('maxPerIndex keeps the largest register of each index', () => {
    const packed = [3 * 64 + 1, 3 * 64 + 5, 7 * 64 + 2, 9 * 64 + 1, 9 * 64 + 4].sort((a, b) => a - b);
    expect(packed.slice(0, maxPerIndex(packed))).toEqual([3 * 64 + 5, 7 * 64 + 2, 9 * 64 + 4]);
    expect(packedRegisterOf('x') >>> 6).toBeLessThan(HLL_REGISTERS);
  });
});

describe('SketchUnion', () => {
  it('is the register-wise maximum of what it was given, with HyperLogLog.estimate()', () => {
    const r = rand(99);
    for (let n = 0; n < 40; n++) {
      const parts = Array.from({ length: r.int(0, 8) }, () => randomRegisters(r));
      const union = new SketchUnion();
      const want = new HyperLogLog();
      for (const p of parts) {
        // The same sketch in either form: Redis bytes (sparse or dense) or packed registers.
        if (r.chance(0.2)) for (const x of packedOf(p)) union.addPacked(x);
        else union.addRedis(r.chance(0.3) ? toRedisDense(p) : toRedis(p));
        want.merge(p);
      }
      expect(union.toHyperLogLog().registers).toEqual(want.registers);
      expect(union.estimate()).toBe(want.estimate());
    }
    expect(new SketchUnion().estimate()).toBe(0);
  }, 60_000);

  it('unions of unions: addUnion and estimateWith equal adding every part to one union, and a clone grows apart from its original', () => {
    const r = rand(7);
    for (let n = 0; n < 30; n++) {
      const left = Array.from({ length: r.int(0, 4) }, () => randomRegisters(r));
      const right = Array.from({ length: r.int(0, 4) }, () => randomRegisters(r));
      const a = new SketchUnion();
      const b = new SketchUnion();
      const all = new HyperLogLog();
      const leftOnly = new HyperLogLog();
      for (const p of left) {
        a.addRedis(toRedis(p));
        all.merge(p);
        leftOnly.merge(p);
      }
      for (const p of right) {
        b.addRedis(toRedis(p));
        all.merge(p);
      }
      // The cached batch union is cloned per answer: adding the speed union must not change it.
      const before = a.estimate(); // counts a's histogram: estimateWith must not reuse it stale
      const merged = a.clone().addUnion(b);
      expect(merged.toHyperLogLog().registers).toEqual(all.registers);
      expect(merged.estimate()).toBe(all.estimate());
      expect(a.estimateWith(b)).toBe(all.estimate());
      expect(b.estimateWith(a)).toBe(all.estimate());
      expect(a.estimate()).toBe(before);
      expect(a.toHyperLogLog().registers).toEqual(leftOnly.registers);
      expect(merged.parts).toBe(left.length + right.length);
      expect(a.memoryBytes).toBeGreaterThan(0);
    }
  }, 60_000);

  it('refuses bytes that are not a Redis HyperLogLog', () => {
    expect(() => new SketchUnion().addRedis(new Uint8Array(20))).toThrow('HYLL');
    const short = toRedis(new HyperLogLog());
    short[16] = 0x00; // one zero register where 16384 were
    expect(() => new SketchUnion().addRedis(short)).toThrow('covers');
  });

  it("states Redis's standard error", () => {
    expect(HLL_STANDARD_ERROR).toBeCloseTo(0.008125, 6);
  });
});
