/**
 * Redis's serialised HyperLogLog (the string value PFADD builds), read and written so the batch
 * layer's sketches can be stored compactly and loaded into Redis as they are:
 *
 *   header   "HYLL", encoding (0 dense, 1 sparse), 3 unused bytes, 8 bytes cached cardinality
 *            (little-endian; the top bit of the last byte set = not cached)
 *   dense    16384 registers of 6 bits, register i at bit 6i, little-endian across bytes
 *   sparse   run-length opcodes: 00xxxxxx = x+1 zero registers, 01xxxxxx yyyyyyyy = (x<<8|y)+1
 *            zero registers, 1vvvvvxx = x+1 registers of value v+1 (values 1..32 only)
 *
 * Written sparse when every register is at most 32 and the opcodes fit Redis's default
 * hll-sparse-max-bytes (3000), as Redis keeps a small sketch; dense otherwise.
 */
import { HLL_REGISTERS, HyperLogLog } from './hll.js';

const HEADER = 16;
const DENSE_BYTES = (HLL_REGISTERS * 6) / 8;
const SPARSE_MAX_VALUE = 32;
const SPARSE_MAX_BYTES = 3000;
const MAGIC = [0x48, 0x59, 0x4c, 0x4c]; // "HYLL"

function header(encoding: 0 | 1, length: number): Uint8Array {
  const out = new Uint8Array(HEADER + length);
  out.set(MAGIC, 0);
  out[4] = encoding;
  out[15] = 0x80; // cardinality not cached: Redis computes it on the first PFCOUNT
  return out;
}

export function toRedisDense(h: HyperLogLog): Uint8Array {
  // One spare byte: the last register's upper bits would spill into it (always zero).
  const out = header(0, DENSE_BYTES + 1);
  for (let i = 0; i < HLL_REGISTERS; i++) {
    const v = h.registers[i]!;
    if (v === 0) continue;
    const bit = i * 6;
    const byte = HEADER + (bit >>> 3);
    const fb = bit & 7;
    out[byte]! |= (v << fb) & 0xff;
    out[byte + 1]! |= v >>> (8 - fb);
  }
  return out.subarray(0, HEADER + DENSE_BYTES);
}

/** Sparse opcodes, or null when a register is over 32 or they would pass 3000 bytes. */
export function toRedisSparse(h: HyperLogLog): Uint8Array | null {
  const ops: number[] = [];
  const r = h.registers;
  let i = 0;
  while (i < HLL_REGISTERS) {
    const v = r[i]!;
    let run = 1;
    while (i + run < HLL_REGISTERS && r[i + run] === v) run++;
    i += run;
    if (v === 0) {
      while (run > 0) {
        const n = Math.min(run, 16384);
        if (n > 64) ops.push(0x40 | ((n - 1) >>> 8), (n - 1) & 0xff);
        else ops.push(n - 1);
        run -= n;
      }
    } else {
      if (v > SPARSE_MAX_VALUE) return null;
      while (run > 0) {
        const n = Math.min(run, 4);
        ops.push(0x80 | ((v - 1) << 2) | (n - 1));
        run -= n;
      }
    }
    if (ops.length > SPARSE_MAX_BYTES) return null;
  }
  const out = header(1, ops.length);
  out.set(ops, HEADER);
  return out;
}

/** The form Redis would keep: sparse while small, dense otherwise. */
export function toRedis(h: HyperLogLog): Uint8Array {
  return toRedisSparse(h) ?? toRedisDense(h);
}

/** Reads a Redis HLL string (dense or sparse); throws on anything else. */
export function fromRedis(bytes: Uint8Array): HyperLogLog {
  if (bytes.length < HEADER || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error('not a Redis HyperLogLog (no HYLL header)');
  const registers = new Uint8Array(HLL_REGISTERS);
  if (bytes[4] === 0) {
    if (bytes.length !== HEADER + DENSE_BYTES) throw new Error(`dense HyperLogLog of ${bytes.length} bytes; expected ${HEADER + DENSE_BYTES}`);
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const bit = i * 6;
      const byte = HEADER + (bit >>> 3);
      const fb = bit & 7;
      const b1 = byte + 1 < bytes.length ? bytes[byte + 1]! : 0;
      registers[i] = ((bytes[byte]! >>> fb) | (b1 << (8 - fb))) & 63;
    }
    return new HyperLogLog(registers);
  }
  if (bytes[4] !== 1) throw new Error(`unknown HyperLogLog encoding ${bytes[4]}`);
  let reg = 0;
  for (let p = HEADER; p < bytes.length; p++) {
    const op = bytes[p]!;
    let run: number;
    let value = 0;
    if ((op & 0xc0) === 0) run = (op & 0x3f) + 1;
    else if ((op & 0xc0) === 0x40) run = (((op & 0x3f) << 8) | bytes[++p]!) + 1;
    else {
      value = ((op >>> 2) & 0x1f) + 1;
      run = (op & 3) + 1;
    }
    if (reg + run > HLL_REGISTERS) throw new Error('sparse HyperLogLog runs past 16384 registers');
    registers.fill(value, reg, reg + run);
    reg += run;
  }
  if (reg !== HLL_REGISTERS) throw new Error(`sparse HyperLogLog covers ${reg} registers, not ${HLL_REGISTERS}`);
  return new HyperLogLog(registers);
}
