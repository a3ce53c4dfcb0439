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

/** The shortest decimal form of a finite non-negative double: digits, then optional fraction and exponent. */
const SHORTEST = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/;

/**
 * value -> value * 10^d as an exact integer, or why it cannot be.
 *
 * The value is judged by its shortest decimal form (ECMAScript's `String(n)`, the fewest digits
 * that read back as the same double; JSON.parse of "12.34" gives the double whose shortest form
 * is "12.34"). A value whose shortest form has more than d decimals is rejected ("has more than
 * d decimals"), never rounded: 12.340000009 at 2 decimals, 1e-7, and float noise such as
 * 0.1 + 0.2 = 0.30000000000000004 are all refused (docs/design-decisions.md, Events). The
 * integer is built from those digits, not from value * 10^d (19.99 * 100 is 1998.9999999999998
 * in binary floating point), so it is exact. Batch and speed layers both call this, through
 * shared/views/fields.ts, so they accept and reject the same amounts.
 */
export function scaleNumber(value: number, decimals: number): number | { error: string } {
  if (!Number.isFinite(value)) return { error: 'is not a finite number' };
  pow10(decimals); // validates decimals
  const m = SHORTEST.exec(String(Math.abs(value)));
  if (m === null) return { error: 'is not a finite number' }; // unreachable for a finite double
  const digits = `${m[1]}${m[2] ?? ''}`;
  const fraction = (m[2] ?? '').length;
  const exponent = m[3] === undefined ? 0 : Number(m[3]);
  // value = digits * 10^(exponent - fraction); it has max(0, fraction - exponent) decimals.
  const shift = exponent - fraction + decimals;
  if (shift < 0) return { error: `has more than ${decimals} decimals` };
  const integer = `${digits.replace(/^0+/, '')}`;
  // More digits than MAX_ABS_SCALED has (13) is out of range; checked before Number() so a
  // 1e300 never becomes a 300-digit string, and Number() below always reads a safe integer.
  const length = integer.length === 0 ? 0 : integer.length + shift;
  if (length > String(MAX_ABS_SCALED).length) return outOfRange(decimals);
  const r = length === 0 ? 0 : Number(`${integer}${'0'.repeat(shift)}`);
  if (r > MAX_ABS_SCALED) return outOfRange(decimals);
  return r === 0 ? 0 : value < 0 ? -r : r; // normalise -0 so it never leaks into state or keys
}

function outOfRange(decimals: number): { error: string } {
  return { error: `is out of range (|value| must be at most ${MAX_ABS_SCALED / pow10(decimals)} at ${decimals} decimals)` };
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
