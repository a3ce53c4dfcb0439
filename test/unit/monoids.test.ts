import { describe, it, expect } from 'vitest';
import {
  addContribution,
  emptyState,
  mergeInto,
  mergeState,
  stateFromPlain,
  stateToPlain,
  statesEqual,
  type MeasureState,
} from '../../shared/aggregate/monoids.js';
import { finalizeState } from '../../shared/aggregate/finalize.js';
import { CELL_KINDS as MEASURE_KINDS, type CellKind as MeasureKind } from '../../shared/aggregate/measure-kinds.js';
import type { Contribution } from '../../shared/views/project.js';
import { rand, type Rand } from './_prng.js';

/** The monoids are the cells' (a measure kind is one or more cells: shared/aggregate/measure-kinds.ts). */
function randomContribution(r: Rand, kind: MeasureKind): Contribution {
  switch (kind) {
    case 'count':
      return 1;
    case 'distinct':
      return r.chance(0.1) ? null : `m${r.int(0, 30)}`;
    default:
      return r.chance(0.15) ? null : r.int(-1_000_000, 1_000_000);
  }
}

function randomContributions(r: Rand, kind: MeasureKind): Contribution[] {
  return Array.from({ length: r.int(0, 12) }, () => randomContribution(r, kind));
}

function fold(kind: MeasureKind, cs: readonly Contribution[]): MeasureState {
  const s = emptyState(kind);
  for (const c of cs) addContribution(s, c);
  return s;
}

function expectSame(a: MeasureState, b: MeasureState): void {
  // statesEqual is what we test with; show both on failure
  if (!statesEqual(a, b)) expect(stateToPlain(a)).toEqual(stateToPlain(b));
  expect(statesEqual(a, b)).toBe(true);
}

describe.each(MEASURE_KINDS.map((k) => [k]))('%s monoid', (kind) => {
  const r = rand(0xc0ffee ^ (kind.length * 7919));
  const trials = 300;

  it('is associative', () => {
    for (let i = 0; i < trials; i++) {
      const [a, b, c] = [0, 1, 2].map(() => fold(kind, randomContributions(r, kind))) as [MeasureState, MeasureState, MeasureState];
      expectSame(mergeState(a, mergeState(b, c)), mergeState(mergeState(a, b), c));
    }
  });

  it('is commutative', () => {
    for (let i = 0; i < trials; i++) {
      const a = fold(kind, randomContributions(r, kind));
      const b = fold(kind, randomContributions(r, kind));
      expectSame(mergeState(a, b), mergeState(b, a));
    }
  });

  it('has the empty state as identity', () => {
    for (let i = 0; i < trials; i++) {
      const a = fold(kind, randomContributions(r, kind));
      expectSame(mergeState(a, emptyState(kind)), a);
      expectSame(mergeState(emptyState(kind), a), a);
    }
  });

  it('merging folds of a split list equals folding the whole list (any split)', () => {
    for (let i = 0; i < trials; i++) {
      const cs = randomContributions(r, kind);
      const cut = r.int(0, cs.length);
      expectSame(mergeState(fold(kind, cs.slice(0, cut)), fold(kind, cs.slice(cut))), fold(kind, cs));
    }
  });

  it('mergeState does not modify its inputs', () => {
    const a = fold(kind, randomContributions(r, kind));
    const b = fold(kind, randomContributions(r, kind));
    const [pa, pb] = [stateToPlain(a), stateToPlain(b)];
    mergeState(a, b);
    expect(stateToPlain(a)).toEqual(pa);
    expect(stateToPlain(b)).toEqual(pb);
  });

  it('survives the plain form', () => {
    for (let i = 0; i < 50; i++) {
      const a = fold(kind, randomContributions(r, kind));
      expectSame(stateFromPlain(structuredClone(stateToPlain(a))), a);
    }
  });
});

describe('monoid semantics', () => {
  it('computes the expected values', () => {
    expect(fold('count', [1, 1, 1])).toEqual({ kind: 'count', n: 3 });
    expect(fold('sum', [5, null, -2])).toEqual({ kind: 'sum', v: 3 });
    expect(fold('min', [null, 5, -2, 7])).toEqual({ kind: 'min', v: -2 });
    expect(fold('max', [null, 5, -2, 7])).toEqual({ kind: 'max', v: 7 });
    expect(fold('min', [null, null])).toEqual({ kind: 'min', v: null });
    const d = fold('distinct', ['a', 'b', 'a', null]);
    expect(d.kind === 'distinct' ? [...d.members] : null).toEqual(['a', 'b']);
  });

  it('finalizes: empty sum is 0, empty min/max is null, distinct is the exact count', () => {
    expect(finalizeState(emptyState('sum'), { type: 'sum', field: 'x', decimals: 2 })).toBe(0);
    expect(finalizeState(emptyState('min'), { type: 'min', field: 'x', decimals: 2 })).toBeNull();
    expect(finalizeState(emptyState('max'), { type: 'max', field: 'x', decimals: 2 })).toBeNull();
    expect(finalizeState(fold('max', [1999, 500]), { type: 'max', field: 'x', decimals: 2 })).toBe(19.99);
    expect(finalizeState(fold('distinct', ['a', 'b', 'a']), { type: 'distinct', field: 'x' })).toBe(2);
    expect(() => finalizeState(emptyState('min'), { type: 'max', field: 'x', decimals: 2 })).toThrow(/cannot finalize/);
  });

  it('rejects mismatched kinds and contributions', () => {
    expect(() => mergeInto(emptyState('sum'), emptyState('count'))).toThrow(/cannot merge/);
    expect(() => addContribution(emptyState('sum'), 'x')).toThrow(/does not fit/);
    expect(() => addContribution(emptyState('sum'), 1.5)).toThrow(/does not fit/);
    expect(() => addContribution(emptyState('distinct'), 3)).toThrow(/does not fit/);
  });

  it('fails loudly instead of losing integer exactness', () => {
    const s = emptyState('sum');
    addContribution(s, Number.MAX_SAFE_INTEGER - 1);
    expect(() => addContribution(s, 5)).toThrow(/overflowed/);
  });
});
