/**
 * Exact decimals for sum/min/max measures.
 *
 * A measure declares `decimals` d; every value is kept as the integer
 * value * 10^d. Sums are then integer additions in both layers (Redis HINCRBY in
 * the speed layer, plain adds in the batch layer), so 0.1 added ten times is
 * exactly 1 and batch and speed can never disagree by floating-point noise.
 */

/**
 * Largest |scaled| accepted for ONE event: 2^43 - 1. Any 1024 such contributions
 * still sum inside Number.MAX_SAFE_INTEGER (1024 * (2^43 - 1) = 2^53 - 1024); real
 * bucket sums stay far below (at 2 decimals one event may carry up to ~87.9
 * billion). The sum monoid still checks the running total and fails loudly
 * instead of rounding.
 */
export const MAX_ABS_SCALED = 2 ** 43 - 1;

export const MAX_DECIMALS = 6;

const POW10: readonly number[] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

export function pow10(decimals: number): number {
  const p = POW10[decimals];
  if (p === undefined || !Number.isInteger(decimals)) throw new RangeError(`decimals must be an integer 0..${MAX_DECIMALS}, got ${decimals}`);
  return p;
}

/**
 * value -> value * 10^d as an exact integer, or why it cannot be.
 *
 * value * 10^d is computed in binary floating point, so 19.99 * 100 gives
 * 1998.9999999999998; we round and accept when the distance to the integer is
 * below 1e-6 of one unit of the last decimal, plus a few ulps of the product to
 * absorb the multiplication's own error at large magnitudes. 1.005 at 2 decimals
 * is 100.49999999999999: half a unit away, so it is rejected rather than
 * silently rounded (the producer sent more precision than the view keeps).
 */
export function scaleNumber(value: number, decimals: number): number | { error: string } {
  if (!Number.isFinite(value)) return { error: 'is not a finite number' };
  const x = value * pow10(decimals);
  const r = Math.round(x);
  if (Math.abs(x - r) > 1e-6 + 8 * Number.EPSILON * Math.abs(x)) {
    return { error: `has more than ${decimals} decimals` };
  }
  if (Math.abs(r) > MAX_ABS_SCALED) {
    return { error: `is out of range (|value| must be at most ${MAX_ABS_SCALED / pow10(decimals)} at ${decimals} decimals)` };
  }
  return r === 0 ? 0 : r; // normalise -0 so it never leaks into state or keys
}

/**
 * scaled / 10^d. Both operands are exact doubles (|scaled| < 2^53, 10^d <= 10^6)
 * and IEEE division is correctly rounded, so the result is the double nearest to
 * the decimal number scaled * 10^-d, i.e. the same double as the literal:
 * unscale(1999, 2) === 19.99 and String() prints "19.99". Noise like
 * 0.30000000000000004 only arises from adding doubles, which we never do.
 */
export function unscale(scaled: number, decimals: number): number {
  const v = decimals === 0 ? scaled : scaled / pow10(decimals);
  return v === 0 ? 0 : v;
}
