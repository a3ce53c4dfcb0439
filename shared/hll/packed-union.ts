/**
 * The union of many small sketches' packed registers (shared/hll/sketch.ts: `index * 64 + count`),
 * as the duckdb engine unions a group's records and rolls minutes up into hours and days
 * (adapters/duckdb/sketch-rows.ts; docs/design-decisions.md, "Uniques").
 */
import { HLL_REGISTERS } from './hll.js';

/** Unions up to this many registers are sorted by insertion as they are written; larger ones through a bitmap. */
const INSERTION_SORT_MAX = 48;

/** Registers per chunk `PackedUnion.take` writes into (256 KiB). */
const PACKED_CHUNK = 1 << 16;

/**
 * The union of packed registers added one at a time, in any order and with repeats: per index the
 * largest, as PFMERGE keeps it. One array of 16384 counts, touched indexes noted, so nothing is
 * copied; `take` hands the union out in index order (the few touched indexes sorted, or found
 * through a bitmap of non-zero words) and leaves the array zeroed for the next one.
 */
export class PackedUnion {
  private readonly counts = new Uint8Array(HLL_REGISTERS);
  /** the same counts four at a time (HLL_REGISTERS is a multiple of 4) */
  private readonly words = new Uint32Array(this.counts.buffer);
  /** bit w of this bitmap: word w of `words` may be non-zero */
  private readonly summary = new Uint32Array(HLL_REGISTERS / 4 / 32);
  private readonly touched: number[] = [];
  /**
   * Where `take` writes: unions are handed out as views of shared chunks, so a roll-up of 200,000
   * small groups allocates a few chunks rather than 200,000 buffers (each a backing store outside
   * the JS heap: that allocation was most of `take`'s time in the bench's profile).
   */
  private chunk = new Int32Array(0);
  private used = 0;

  /** Adds one packed register (index * 64 + count); a count of 0 adds nothing. */
  add(packed: number): void {
    const index = packed >>> 6;
    const count = packed & 63;
    const was = this.counts[index]!;
    if (count <= was) return;
    if (was === 0) {
      this.touched.push(index);
      this.summary[index >>> 7]! |= 1 << ((index >>> 2) & 31);
    }
    this.counts[index] = count;
  }

  addAll(packed: ArrayLike<number>): void {
    for (let i = 0; i < packed.length; i++) this.add(packed[i]!);
  }

  /** The union's non-zero registers, packed, sorted by index, one per index (a view of a chunk no other union shares); the union is empty after. */
  take(): Int32Array {
    const { counts, touched } = this;
    if (this.used + touched.length > this.chunk.length) {
      this.chunk = new Int32Array(Math.max(PACKED_CHUNK, touched.length));
      this.used = 0;
    }
    const packed = this.chunk.subarray(this.used, this.used + touched.length);
    this.used += touched.length;
    if (touched.length > INSERTION_SORT_MAX) {
      // In index order through the bitmap of non-zero words (four counts each): its 128 summary
      // words, then only the words that hold a register. Cheaper than sorting a few hundred
      // indexes (a busy URL's minute) and than scanning all 16384 counts.
      const { words, summary } = this;
      let n = 0;
      for (let s = 0; s < summary.length; s++) {
        let bits = summary[s]!;
        while (bits !== 0) {
          const low = bits & -bits;
          const w = s * 32 + (31 - Math.clz32(low));
          for (let index = w * 4; index < w * 4 + 4; index++) {
            const count = counts[index]!;
            if (count !== 0) packed[n++] = index * 64 + count;
          }
          words[w] = 0;
          bits ^= low;
        }
        summary[s] = 0;
      }
    } else {
      // index * 64 + count orders as the index does; most unions (a minute's group) are small
      // enough for an insertion sort as they are written.
      for (let k = 0; k < touched.length; k++) {
        const index = touched[k]!;
        const v = index * 64 + counts[index]!;
        counts[index] = 0;
        this.summary[index >>> 7] = 0;
        let j = k;
        for (; j > 0 && packed[j - 1]! > v; j--) packed[j] = packed[j - 1]!;
        packed[j] = v;
      }
    }
    touched.length = 0;
    return packed;
  }
}
