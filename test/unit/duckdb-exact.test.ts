/**
 * The duckdb engine's integers (adapters/duckdb/stored-groups.ts `exact`): DuckDB hands BIGINT and
 * HUGEINT cells over as bigint; a run file stores exact integers, so a value past 2^53 must fail
 * the run loudly instead of being rounded into a wrong count or sum.
 */
import { describe, expect, it } from 'vitest';
import { exact } from '../../adapters/duckdb/stored-groups.js';

describe('exact integers from DuckDB', () => {
  it('passes integers up to 2^53 - 1 through, either sign, bigint or number, and null as null', () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(exact(BigInt(max), 'x')).toBe(max);
    expect(exact(-BigInt(max), 'x')).toBe(-max);
    expect(exact(0n, 'x')).toBe(0);
    expect(exact(42, 'x')).toBe(42);
    expect(exact(null, 'x')).toBeNull();
    expect(exact(undefined, 'x')).toBeNull();
  });

  it('fails on 2^53 and beyond, naming what overflowed', () => {
    for (const v of [2n ** 53n, -(2n ** 53n), 10n ** 30n, 2 ** 53]) {
      expect(() => exact(v, 'measure "revenue" of view "shop"'), String(v)).toThrow(/measure "revenue" of view "shop" overflowed 2\^53/);
    }
  });
});
