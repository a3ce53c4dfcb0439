import { describe, it, expect } from 'vitest';
import { MAX_ABS_SCALED, scaleNumber, unscale } from '../../shared/decimal.js';
import { emptyState, addContribution } from '../../shared/aggregate/monoids.js';
import { finalizeState } from '../../shared/aggregate/finalize.js';
import { rand } from './_prng.js';

const sum2 = { type: 'sum', field: 'amount', decimals: 2 } as const;

function sumOf(values: number[], decimals = 2): number | null {
  const s = emptyState('sum');
  for (const v of values) {
    const c = scaleNumber(v, decimals);
    if (typeof c !== 'number') throw new Error(c.error);
    addContribution(s, c);
  }
  return finalizeState(s, { ...sum2, decimals });
}

describe('exact decimals', () => {
  it('0.1 ten times is exactly 1 (naive float addition is not)', () => {
    let naive = 0;
    for (let i = 0; i < 10; i++) naive += 0.1;
    expect(naive).not.toBe(1);
    expect(sumOf(Array<number>(10).fill(0.1), 1)).toBe(1);
    expect(sumOf(Array<number>(10).fill(0.1), 2)).toBe(1);
  });

  it('19.99 * 3 is exactly 59.97, and 19.99 * 5 is 99.95 (naive addition gives 99.94999999999999)', () => {
    expect(sumOf([19.99, 19.99, 19.99])).toBe(59.97);
    expect(String(sumOf([19.99, 19.99, 19.99]))).toBe('59.97');
    expect(19.99 + 19.99 + 19.99 + 19.99 + 19.99).toBe(99.94999999999999);
    expect(sumOf(Array<number>(5).fill(19.99))).toBe(99.95);
    expect(sumOf(Array<number>(20).fill(19.99))).toBe(399.8);
  });

  it('0.1 + 0.2 is 0.3', () => {
    expect(sumOf([0.1, 0.2])).toBe(0.3);
    expect(sumOf([-0.1, 0.1])).toBe(0);
    expect(Object.is(sumOf([-0.1, 0.1]), -0)).toBe(false);
  });

  it('scaleNumber accepts representable values and rejects extra precision', () => {
    expect(scaleNumber(19.99, 2)).toBe(1999);
    expect(scaleNumber(-19.99, 2)).toBe(-1999);
    expect(scaleNumber(1.1, 1)).toBe(11);
    expect(scaleNumber(7, 0)).toBe(7);
    expect(scaleNumber(0.000001, 6)).toBe(1);
    expect(scaleNumber(1.005, 2)).toEqual({ error: 'has more than 2 decimals' });
    expect(scaleNumber(0.5, 0)).toEqual({ error: 'has more than 0 decimals' });
    expect(scaleNumber(0.0000001, 6)).toEqual({ error: 'has more than 6 decimals' });
    expect(Object.is(scaleNumber(-0, 2), 0)).toBe(true);
  });

  it('rejects hostile numbers: a value whose shortest decimal form has more decimals than the measure keeps', () => {
    // Each of these used to be rounded silently (within 1e-6 of a unit of the last decimal).
    expect(scaleNumber(12.340000009, 2)).toEqual({ error: 'has more than 2 decimals' });
    expect(scaleNumber(19.99 + 1e-7, 2)).toEqual({ error: 'has more than 2 decimals' });
    expect(scaleNumber(1e-7, 2)).toEqual({ error: 'has more than 2 decimals' });
    expect(scaleNumber(-1e-7, 6)).toEqual({ error: 'has more than 6 decimals' });
    expect(scaleNumber(1.5e-7, 6)).toEqual({ error: 'has more than 6 decimals' });
    expect(scaleNumber(5.0000001, 0)).toEqual({ error: 'has more than 0 decimals' });
    // Decision (docs/design-decisions.md, Events): a double is judged by its shortest decimal form,
    // so a producer's own float noise such as 0.1 + 0.2 = 0.30000000000000004 is rejected too.
    expect(0.1 + 0.2).toBe(0.30000000000000004);
    expect(scaleNumber(0.1 + 0.2, 2)).toEqual({ error: 'has more than 2 decimals' });
    expect(scaleNumber(Number('0.30000000000000004'), 6)).toEqual({ error: 'has more than 6 decimals' });
    expect(scaleNumber(0.1 * 3, 2)).toEqual({ error: 'has more than 2 decimals' }); // 0.30000000000000004
    // ...while the same numbers written with the decimals the measure keeps are exact.
    expect(scaleNumber(0.3, 2)).toBe(30);
    expect(scaleNumber(12.34, 2)).toBe(1234);
    expect(scaleNumber(1e-6, 6)).toBe(1);
    expect(scaleNumber(1.5e-5, 6)).toBe(15);
    expect(scaleNumber(2.5e3, 0)).toBe(2500);
    expect(scaleNumber(1e13, 0)).toMatchObject({ error: expect.stringMatching(/out of range/) });
    expect(scaleNumber(1e21, 2)).toMatchObject({ error: expect.stringMatching(/out of range/) });
    expect(scaleNumber(1e300, 0)).toMatchObject({ error: expect.stringMatching(/out of range/) });
    expect(scaleNumber(Number.NaN, 2)).toEqual({ error: 'is not a finite number' });
  });

  it('range bound', () => {
    expect(scaleNumber(MAX_ABS_SCALED / 100, 2)).toBe(MAX_ABS_SCALED);
    expect(scaleNumber(-MAX_ABS_SCALED / 100, 2)).toBe(-MAX_ABS_SCALED);
    expect(scaleNumber((MAX_ABS_SCALED + 1) / 100, 2)).toMatchObject({ error: expect.stringMatching(/out of range/) });
    // 1024 maximal values still sum exactly
    expect(Number.isSafeInteger(MAX_ABS_SCALED * 1024)).toBe(true);
    expect(Number.isSafeInteger((MAX_ABS_SCALED + 1) * 1024)).toBe(false);
  });

  it('large values near the bound keep exactness', () => {
    expect(scaleNumber(87960930222.07, 2)).toBe(8796093022207);
    expect(unscale(8796093022207, 2)).toBe(87960930222.07);
    expect(scaleNumber(-87960930222.07, 2)).toBe(-8796093022207);
    expect(scaleNumber(8796093.022207, 6)).toBe(8796093022207);
    expect(scaleNumber(87960930222.075, 2)).toEqual({ error: 'has more than 2 decimals' });
  });

  it('unscale gives the same double as the decimal literal (randomized)', () => {
    const r = rand(12345);
    for (let i = 0; i < 20000; i++) {
      const d = r.int(0, 6);
      const scaled = r.int(-1e9, 1e9) * (r.chance(0.5) ? 1 : r.int(1, 8000));
      const u = unscale(scaled, d);
      // the literal written by hand: digits with the point d places from the right
      const neg = scaled < 0;
      const digits = String(Math.abs(scaled)).padStart(d + 1, '0');
      const literal = `${neg ? '-' : ''}${d === 0 ? digits : `${digits.slice(0, -d)}.${digits.slice(-d)}`}`;
      expect(u).toBe(Number(literal));
      // and it scales back to the same integer
      expect(scaleNumber(u, d)).toBe(scaled === 0 ? 0 : scaled);
    }
  });

  it('randomized sums equal the exact decimal sum', () => {
    const r = rand(777);
    for (let trial = 0; trial < 200; trial++) {
      const cents = Array.from({ length: r.int(1, 50) }, () => r.int(-100000, 100000));
      const exact = cents.reduce((a, b) => a + b, 0);
      expect(sumOf(cents.map((c) => c / 100))).toBe(Number((exact / 100).toFixed(2)));
    }
  });
});
