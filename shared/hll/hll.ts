/**
 * A HyperLogLog whose registers are exactly those Redis builds with PFADD from the same members
 * (docs/design-decisions.md, "Uniques"): 16384 registers (P = 14), MurmurHash64A with Redis's
 * seed over the member's UTF-8 bytes, register = index of the lowest set bit of the remaining 50
 * bits, plus one. So a sketch built by the batch layer can be written into Redis as a string and
 * merged with the speed layer's (PFMERGE), and a union is the sketch of the union of the members.
 *
 * Serialisation is Redis's own format (hll-format.ts): a 16-byte "HYLL" header, then dense
 * (6 bits per register) or sparse (run-length opcodes) registers.
 */
import { murmurHash64A } from './murmur64a.js';

export const HLL_P = 14;
export const HLL_REGISTERS = 1 << HLL_P;
/** bits of the hash left after the register index */
export const HLL_Q = 64 - HLL_P;
const SEED = 0xadc83b19;
const encoder = new TextEncoder();

/** The register index and the value ("pattern length") a member sets, as Redis's hllPatLen. */
export function registerOf(member: string | Uint8Array): { index: number; count: number } {
  const bytes = typeof member === 'string' ? utf8(member) : member;
  const [hi, lo] = murmurHash64A(bytes, SEED);
  const index = lo & (HLL_REGISTERS - 1);
  // The remaining 50 bits, with bit 50 set as a sentinel so the count stops at Q + 1.
  const restLo = ((lo >>> HLL_P) | (hi << (32 - HLL_P))) >>> 0; // bits 14..45 of the hash
  const restHi = (hi >>> HLL_P) | (1 << (HLL_Q - 32)); // bits 46..63, plus the sentinel at bit 18
  const count = restLo !== 0 ? trailingZeros(restLo) + 1 : 32 + trailingZeros(restHi) + 1;
  return { index, count };
}

/**
 * The UTF-8 bytes of `s` (what ioredis sends to PFADD), written into a reused buffer: a batch run
 * hashes millions of members, and a fresh array per member was a third of the time. The view is
 * valid until the next call.
 */
const scratch = new Uint8Array(4096);
function utf8(s: string): Uint8Array {
  // 3 bytes per UTF-16 unit at most: a string this short always fits.
  if (s.length * 3 > scratch.length) return encoder.encode(s);
  return scratch.subarray(0, encoder.encodeInto(s, scratch).written);
}

function trailingZeros(x: number): number {
  return 31 - Math.clz32(x & -x);
}

export class HyperLogLog {
  /** one byte per register (values 0..51) */
  readonly registers: Uint8Array;

  constructor(registers?: Uint8Array) {
    this.registers = registers ?? new Uint8Array(HLL_REGISTERS);
    if (this.registers.length !== HLL_REGISTERS) throw new RangeError(`a HyperLogLog has ${HLL_REGISTERS} registers, got ${this.registers.length}`);
  }

  /** true when a register changed (as PFADD's reply) */
  add(member: string | Uint8Array): boolean {
    const { index, count } = registerOf(member);
    if (this.registers[index]! >= count) return false;
    this.registers[index] = count;
    return true;
  }

  /** registers become the maximum of both: the sketch of the union (PFMERGE) */
  merge(other: HyperLogLog): this {
    const a = this.registers;
    const b = other.registers;
    for (let i = 0; i < HLL_REGISTERS; i++) if (b[i]! > a[i]!) a[i] = b[i]!;
    return this;
  }

  isEmpty(): boolean {
    return this.registers.every((r) => r === 0);
  }

  /**
   * The cardinality estimate, by the estimator Redis (5.0 and later) uses: Otmar Ertl's improved
   * raw estimator over the histogram of register values. Computed in doubles (Redis uses long
   * double), so it may differ from PFCOUNT in the last unit on rare inputs; where the exact
   * PFCOUNT matters, load the sketch into Redis and ask it.
   */
  estimate(): number {
    const histogram = new Array<number>(HLL_Q + 2).fill(0);
    for (let i = 0; i < HLL_REGISTERS; i++) histogram[this.registers[i]!]!++;
    return estimateFromHistogram(histogram);
  }
}

/**
 * Redis's estimate from the histogram of register values (histogram[v] = registers holding v,
 * v = 0..Q+1, summing to 16384): what a sketch kept sparsely (only its non-zero registers) needs.
 */
export function estimateFromHistogram(histogram: readonly number[]): number {
  const m = HLL_REGISTERS;
  let z = m * tau((m - (histogram[HLL_Q + 1] ?? 0)) / m);
  for (let j = HLL_Q; j >= 1; j--) {
    z += histogram[j] ?? 0;
    z *= 0.5;
  }
  z += m * sigma((histogram[0] ?? 0) / m);
  return Math.round((ALPHA_INF * m * m) / z);
}

/** 1 / (2 ln 2) */
const ALPHA_INF = 1 / (2 * Math.LN2);

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let prev: number;
  do {
    x *= x;
    prev = z;
    z += x * y;
    y += y;
  } while (prev !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let prev: number;
  do {
    x = Math.sqrt(x);
    prev = z;
    y *= 0.5;
    z -= (1 - x) ** 2 * y;
  } while (prev !== z);
  return z / 3;
}
