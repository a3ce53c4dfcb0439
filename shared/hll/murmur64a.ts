/**
 * MurmurHash64A (Austin Appleby), the hash Redis feeds its HyperLogLog (seed 0xadc83b19), so a
 * sketch built here sets the same registers PFADD would (docs/design-decisions.md, "Uniques").
 * 64-bit arithmetic on two 32-bit halves: BigInt would be ten times slower on a batch run's
 * millions of members. Returns the hash as [high 32 bits, low 32 bits], unsigned.
 */

const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;

/** (ah:al) * (bh:bl) mod 2^64, as [hi, lo]. */
function mul64(ah: number, al: number, bh: number, bl: number): [number, number] {
  // al * bl exactly, from 16-bit halves (each partial product < 2^32 fits a double exactly).
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p00 = a0 * b0;
  const mid = a1 * b0 + a0 * b1 + (p00 >>> 16); // < 2^34: exact
  const lo = ((mid & 0xffff) * 0x10000 + (p00 & 0xffff)) >>> 0;
  const carry = a1 * b1 + Math.floor(mid / 0x10000); // high 32 bits of al * bl
  const hi = (carry + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
  return [hi, lo];
}

/** x ^= x >>> 47, on (hi, lo). */
function xorShift47(hi: number, lo: number): [number, number] {
  // x >>> 47 = hi >>> 15 (the low word); its high word is 0.
  return [hi, (lo ^ (hi >>> 15)) >>> 0];
}

export function murmurHash64A(data: Uint8Array, seed: number): [number, number] {
  const len = data.length;
  // h = seed ^ (len * m)
  let [hHi, hLo] = mul64(0, len >>> 0, M_HI, M_LO);
  hLo = (hLo ^ (seed >>> 0)) >>> 0;
  const blocks = len - (len & 7);
  for (let i = 0; i < blocks; i += 8) {
    // little-endian 64-bit load
    let kLo = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
    let kHi = (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24)) >>> 0;
    [kHi, kLo] = mul64(kHi, kLo, M_HI, M_LO);
    [kHi, kLo] = xorShift47(kHi, kLo);
    [kHi, kLo] = mul64(kHi, kLo, M_HI, M_LO);
    hHi = (hHi ^ kHi) >>> 0;
    hLo = (hLo ^ kLo) >>> 0;
    [hHi, hLo] = mul64(hHi, hLo, M_HI, M_LO);
  }
  const rest = len & 7;
  if (rest > 0) {
    // h ^= data[blocks + j] << (8 * j) for the tail bytes, then h *= m
    for (let j = rest - 1; j >= 0; j--) {
      const byte = data[blocks + j]!;
      if (j >= 4) hHi = (hHi ^ (byte << (8 * (j - 4)))) >>> 0;
      else hLo = (hLo ^ (byte << (8 * j))) >>> 0;
    }
    [hHi, hLo] = mul64(hHi, hLo, M_HI, M_LO);
  }
  [hHi, hLo] = xorShift47(hHi, hLo);
  [hHi, hLo] = mul64(hHi, hLo, M_HI, M_LO);
  [hHi, hLo] = xorShift47(hHi, hLo);
  return [hHi, hLo];
}
