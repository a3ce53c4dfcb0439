/**
 * Zipf-distributed ranks 1..n (a few pages get most of the traffic, as on a real site), sampled
 * by binary search over the precomputed cumulative distribution.
 */
import type { Rng } from './prng.js';

export class Zipf {
  private readonly cdf: Float64Array;

  constructor(
    readonly n: number,
    readonly s = 1.1,
  ) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 1; k <= n; k++) sum += 1 / k ** s;
    let acc = 0;
    for (let k = 1; k <= n; k++) {
      acc += 1 / k ** s / sum;
      this.cdf[k - 1] = acc;
    }
    this.cdf[n - 1] = 1;
  }

  /** A rank in 1..n. */
  sample(rng: Rng): number {
    const x = rng();
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cdf[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }
}
