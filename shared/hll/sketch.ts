/**
 * Many small sketches, built and unioned without a 16384-register array each (issue 16;
 * docs/design-decisions.md, "Uniques"). A batch run holds one sketch per group of every distinct
 * measure, and most groups (a URL in one minute) have a handful of members: building each through
 * `new HyperLogLog()` + `toRedis()` costs a 16 KiB array and two passes over 16384 registers,
 * about 175 us per group (measured: 17 s for 100,000 groups of 10 members). Here a sketch is its
 * non-zero registers, sorted, and the Redis bytes are written straight from them; the bytes are
 * identical to `toRedis(hll)` (a unit test holds them to it), so either path may write a run file.
 *
 * A register is packed into one integer: `index * 64 + count` (index < 16384, count <= 51 < 64),
 * so sorting packed registers sorts them by index, and for one index the largest packed value
 * holds the largest count (the register a union keeps).
 */
import { HLL_Q, HLL_REGISTERS, HyperLogLog, estimateFromHistogram, registerOf } from './hll.js';
import { fromRedis, toRedisDense } from './hll-format.js';

/** Redis's HyperLogLog standard error, 1.04 / sqrt(16384): about 0.81% of the count. */
export const HLL_STANDARD_ERROR = 1.04 / Math.sqrt(HLL_REGISTERS);

const HEADER = 16;
const SPARSE_MAX_VALUE = 32;
const SPARSE_MAX_BYTES = 3000;
/** past this many non-zero registers a union keeps a dense array instead of a map */
const SPARSE_UNION_MAX = 2048;

/** The register a member sets, packed: index * 64 + count. */
export function packedRegisterOf(member: string | Uint8Array): number {
  const { index, count } = registerOf(member);
  return index * 64 + count;
}

/**
 * Keeps, of packed registers sorted by value, the largest per index (the union's register), in
 * place; returns how many remain at the front.
 */
export function maxPerIndex(sorted: number[]): number {
  let n = 0;
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!;
    if (n > 0 && sorted[n - 1]! >>> 6 === v >>> 6) sorted[n - 1] = v;
    else sorted[n++] = v;
  }
  return n;
}

/**
 * The Redis bytes (toRedis's choice: sparse while every register is at most 32 and the opcodes fit
 * 3000 bytes, dense otherwise) of the sketch whose non-zero registers are `packed[0..n)`, sorted
 * by index, one per index.
 */
export function redisBytesOfPacked(packed: ArrayLike<number>, n = packed.length, into?: BytesArena): Uint8Array {
  const ops = opsScratch;
  let len = 0;
  let pos = 0; // next register index not yet written
  let i = 0;
  while (i < n) {
    const index = packed[i]! >>> 6;
    const value = packed[i]! & 63;
    if (value > SPARSE_MAX_VALUE) return dense(packed, n);
    if (index > pos) len = zeros(ops, len, index - pos);
    // A run of equal values at consecutive indexes, as toRedisSparse coalesces it.
    let run = 1;
    while (i + run < n && packed[i + run]! >>> 6 === index + run && (packed[i + run]! & 63) === value) run++;
    for (let left = run; left > 0; left -= 4) ops[len++] = 0x80 | ((value - 1) << 2) | (Math.min(left, 4) - 1);
    pos = index + run;
    i += run;
    if (len > SPARSE_MAX_BYTES) return dense(packed, n);
  }
  if (pos < HLL_REGISTERS) len = zeros(ops, len, HLL_REGISTERS - pos);
  if (len > SPARSE_MAX_BYTES) return dense(packed, n);
  const out = into === undefined ? new Uint8Array(HEADER + len) : into.alloc(HEADER + len);
  out[0] = 0x48; // "HYLL"
  out[1] = 0x59;
  out[2] = 0x4c;
  out[3] = 0x4c;
  out[4] = 1; // sparse
  out[15] = 0x80; // cardinality not cached
  out.set(ops.subarray(0, len), HEADER);
  return out;
}

/** Bytes per chunk of a BytesArena (1 MiB). */
const ARENA_CHUNK = 1 << 20;

/**
 * Where many small sketches' bytes are written: views of shared 1 MiB chunks, so a batch run's
 * 200,000 sparse sketches allocate a few hundred chunks rather than 200,000 buffers (a Uint8Array
 * past 64 bytes has its own backing store outside the JS heap; allocating and collecting those
 * took 0.4 s of the 5M-event run). A sketch's bytes are then a view: its `.buffer` holds other
 * sketches too, so it is never transferred or written by its buffer. Each alloc is zeroed.
 */
export class BytesArena {
  private chunk = new Uint8Array(0);
  private used = 0;

  alloc(n: number): Uint8Array {
    if (n > ARENA_CHUNK / 8) return new Uint8Array(n);
    if (this.used + n > this.chunk.length) {
      this.chunk = new Uint8Array(ARENA_CHUNK);
      this.used = 0;
    }
    const out = this.chunk.subarray(this.used, this.used + n);
    this.used += n;
    return out;
  }
}

/**
 * The opcodes redisBytesOfPacked writes, reused: at most SPARSE_MAX_BYTES before the check, plus
 * what one step can add past it (a zero run's 2 bytes and a value run of up to 16384 registers,
 * 4 per byte) and the closing zero run.
 */
const opsScratch = new Uint8Array(SPARSE_MAX_BYTES + 2 + HLL_REGISTERS / 4 + 2);

/** Writes a run of zero registers (at most 16384) at `len`: XZERO past 64, ZERO otherwise; returns the new length. */
function zeros(ops: Uint8Array, len: number, run: number): number {
  const r = run - 1;
  if (run > 64) {
    ops[len] = 0x40 | (r >>> 8);
    ops[len + 1] = r & 0xff;
    return len + 2;
  }
  ops[len] = r;
  return len + 1;
}

function dense(packed: ArrayLike<number>, n: number): Uint8Array {
  const registers = new Uint8Array(HLL_REGISTERS);
  for (let i = 0; i < n; i++) registers[packed[i]! >>> 6] = packed[i]! & 63;
  return toRedisDense(new HyperLogLog(registers));
}

/** The Redis bytes of the sketch of `members` (equal to toRedis of a HyperLogLog fed them). */
export function sketchOfMembers(members: Iterable<string | Uint8Array>, registerOfMember: (m: string | Uint8Array) => number = packedRegisterOf): Uint8Array {
  const packed: number[] = [];
  for (const m of members) packed.push(registerOfMember(m));
  packed.sort((a, b) => a - b);
  return redisBytesOfPacked(packed, maxPerIndex(packed));
}

/**
 * The union (register-wise maximum, PFMERGE) of Redis HyperLogLog strings and packed registers,
 * and its estimate by Redis's estimator. It stays a map of the non-zero registers while the union
 * is small, so unioning the sparse sketches of a few members costs their opcodes, not 16384
 * registers each; a dense input or a large union switches to an array.
 */
export class SketchUnion {
  private sparse: Map<number, number> | null = new Map();
  private dense: Uint8Array | null = null;
  /** the registers' histogram, while no register has changed since it was counted */
  private counted: number[] | null = null;
  /** sketches (or registers) added */
  parts = 0;

  /** Adds a Redis HyperLogLog string (dense or sparse); throws on anything else. */
  addRedis(bytes: Uint8Array): this {
    this.parts++;
    if (bytes.length < HEADER || bytes[0] !== 0x48 || bytes[1] !== 0x59 || bytes[2] !== 0x4c || bytes[3] !== 0x4c) {
      throw new Error('not a Redis HyperLogLog (no HYLL header)');
    }
    if (bytes[4] !== 1) {
      // Dense (or unknown: fromRedis names it): every register at once.
      this.mergeDense(fromRedis(bytes).registers);
      return this;
    }
    let reg = 0;
    for (let p = HEADER; p < bytes.length; p++) {
      const op = bytes[p]!;
      if ((op & 0xc0) === 0) reg += (op & 0x3f) + 1;
      else if ((op & 0xc0) === 0x40) reg += (((op & 0x3f) << 8) | (bytes[++p] ?? 0)) + 1;
      else {
        const value = ((op >>> 2) & 0x1f) + 1;
        const run = (op & 3) + 1;
        if (reg + run > HLL_REGISTERS) break;
        for (let k = 0; k < run; k++) this.set(reg + k, value);
        reg += run;
      }
      if (reg > HLL_REGISTERS) break;
    }
    if (reg !== HLL_REGISTERS) throw new Error(`sparse HyperLogLog covers ${reg} registers, not ${HLL_REGISTERS}`);
    return this;
  }

  /** Adds one packed register (index * 64 + count). */
  addPacked(packed: number): this {
    this.set(packed >>> 6, packed & 63);
    return this;
  }

  /** Adds every register of another union (their union's union). */
  addUnion(other: SketchUnion): this {
    this.parts += other.parts;
    if (other.dense !== null) this.mergeDense(other.dense);
    else for (const [i, v] of other.sparse as Map<number, number>) this.set(i, v);
    return this;
  }

  /** Roughly what the union holds in memory (a Map entry is counted 40 bytes): for cache budgets. */
  get memoryBytes(): number {
    return this.dense !== null ? HLL_REGISTERS : 64 + 40 * (this.sparse as Map<number, number>).size;
  }

  /** A copy that can grow without changing this one (a cached union reused per answer). */
  clone(): SketchUnion {
    return new SketchUnion().addUnion(this);
  }

  /** Redis's estimate of the union's cardinality (0 when nothing was added). */
  estimate(): number {
    return estimateFromHistogram(this.histogram());
  }

  /**
   * The estimate of this union's union with `other`, changing neither. A kept union (the serving
   * cache's batch part) is estimated with many small fresh ones: its histogram is counted once and
   * only `other`'s registers are visited, not 16384 per answer.
   */
  estimateWith(other: SketchUnion): number {
    if (other.dense !== null) return this.dense !== null ? this.clone().addUnion(other).estimate() : other.estimateWith(this);
    const histogram = [...this.histogram()];
    for (const [i, v] of other.sparse as Map<number, number>) {
      const mine = this.dense !== null ? this.dense[i]! : ((this.sparse as Map<number, number>).get(i) ?? 0);
      if (v <= mine) continue;
      histogram[mine]!--;
      histogram[v]!++;
    }
    return estimateFromHistogram(histogram);
  }

  /** How many registers hold each value; kept until the union changes. */
  private histogram(): readonly number[] {
    if (this.counted !== null) return this.counted;
    const histogram = new Array<number>(HLL_Q + 2).fill(0);
    if (this.dense !== null) {
      for (let i = 0; i < HLL_REGISTERS; i++) histogram[this.dense[i]!]!++;
    } else {
      const sparse = this.sparse as Map<number, number>;
      histogram[0] = HLL_REGISTERS - sparse.size;
      for (const v of sparse.values()) histogram[v]!++;
    }
    this.counted = histogram;
    return histogram;
  }

  /** The union as a HyperLogLog (a copy). */
  toHyperLogLog(): HyperLogLog {
    if (this.dense !== null) return new HyperLogLog(Uint8Array.from(this.dense));
    const registers = new Uint8Array(HLL_REGISTERS);
    for (const [i, v] of this.sparse as Map<number, number>) registers[i] = v;
    return new HyperLogLog(registers);
  }

  private set(index: number, value: number): void {
    if (this.dense !== null) {
      if (value > this.dense[index]!) {
        this.dense[index] = value;
        this.counted = null;
      }
      return;
    }
    const sparse = this.sparse as Map<number, number>;
    const had = sparse.get(index);
    if (had !== undefined && had >= value) return;
    sparse.set(index, value);
    this.counted = null;
    if (sparse.size > SPARSE_UNION_MAX) this.toDense();
  }

  private toDense(): Uint8Array {
    if (this.dense === null) {
      this.dense = new Uint8Array(HLL_REGISTERS);
      for (const [i, v] of this.sparse as Map<number, number>) this.dense[i] = v;
      this.sparse = null;
    }
    return this.dense;
  }

  private mergeDense(registers: Uint8Array): void {
    const d = this.toDense();
    this.counted = null;
    for (let i = 0; i < HLL_REGISTERS; i++) if (registers[i]! > d[i]!) d[i] = registers[i]!;
  }
}
