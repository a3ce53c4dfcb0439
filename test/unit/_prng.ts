/** Test-only seeded PRNG (xorshift32) so randomized tests are reproducible. */
export interface Rand {
  next(): number; // [0, 1)
  int(lo: number, hi: number): number; // inclusive
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

export function rand(seed: number): Rand {
  let s = seed >>> 0 || 0x9e3779b9;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => {
      if (xs.length === 0) throw new Error('pick from empty');
      return xs[Math.floor(next() * xs.length)] as (typeof xs)[number];
    },
    chance: (p) => next() < p,
  };
}
