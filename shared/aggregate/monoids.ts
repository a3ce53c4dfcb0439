/**
 * One commutative monoid per cell kind (shared/aggregate/measure-kinds.ts: a measure is one or
 * more cells). Associativity + commutativity +
 * identity are what let the batch layer map per file and merge partials in any
 * order (worker threads, or any engine), and the speed layer pre-aggregate a
 * fetched batch before one atomic Redis call. Property tests check the laws.
 *
 * - count:    integer add, identity 0
 * - sum:      integer add of scaled values, identity 0
 * - min, max: null is the identity ("no value yet")
 * - distinct: exact set union, identity the empty set (the batch side; the speed
 *             side uses Redis HyperLogLog, a monoid too)
 */
import { LambdaError } from '../errors.js';
import type { CellKind } from './measure-kinds.js';
import type { Contribution } from '../views/project.js';

export type MeasureState =
  | { kind: 'count'; n: number }
  | { kind: 'sum'; v: number }
  | { kind: 'min'; v: number | null }
  | { kind: 'max'; v: number | null }
  | { kind: 'distinct'; members: Set<string> };

export function emptyState(kind: CellKind): MeasureState {
  switch (kind) {
    case 'count':
      return { kind, n: 0 };
    case 'sum':
      return { kind, v: 0 };
    case 'min':
    case 'max':
      return { kind, v: null };
    case 'distinct':
      return { kind, members: new Set() };
  }
}

/** Integer add that refuses to leave the range where doubles are exact. */
function safeAdd(a: number, b: number, what: string): number {
  const r = a + b;
  if (!Number.isSafeInteger(r)) {
    throw new LambdaError('INTERNAL', `${what} overflowed 2^53 (exact integers); use fewer decimals for this measure`, {
      details: { a, b },
    });
  }
  return r;
}

function minOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return b < a ? b : a;
}

function maxOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return b > a ? b : a;
}

function wrongContribution(state: MeasureState, c: Contribution): never {
  throw new LambdaError('INTERNAL', `contribution ${JSON.stringify(c)} does not fit a ${state.kind} measure`);
}

/** Add one event's contribution (see project.ts) to `state`, in place. */
export function addContribution(state: MeasureState, c: Contribution): void {
  switch (state.kind) {
    case 'count':
      if (typeof c !== 'number' || !Number.isInteger(c)) wrongContribution(state, c);
      state.n = safeAdd(state.n, c, 'count');
      return;
    case 'sum':
      if (c === null) return;
      if (typeof c !== 'number' || !Number.isInteger(c)) wrongContribution(state, c);
      state.v = safeAdd(state.v, c, 'sum');
      return;
    case 'min':
    case 'max':
      if (c === null) return;
      if (typeof c !== 'number') wrongContribution(state, c);
      state.v = state.kind === 'min' ? minOf(state.v, c) : maxOf(state.v, c);
      return;
    case 'distinct':
      if (c === null) return;
      if (typeof c !== 'string') wrongContribution(state, c);
      state.members.add(c);
      return;
  }
}

function mismatch(a: MeasureState, b: MeasureState): never {
  throw new LambdaError('INTERNAL', `cannot merge a ${a.kind} state with a ${b.kind} state`);
}

/** target := target ⊕ src, in place (src is not modified). */
export function mergeInto(target: MeasureState, src: MeasureState): void {
  switch (target.kind) {
    case 'count':
      if (src.kind !== 'count') mismatch(target, src);
      target.n = safeAdd(target.n, src.n, 'count');
      return;
    case 'sum':
      if (src.kind !== 'sum') mismatch(target, src);
      target.v = safeAdd(target.v, src.v, 'sum');
      return;
    case 'min':
      if (src.kind !== 'min') mismatch(target, src);
      target.v = minOf(target.v, src.v);
      return;
    case 'max':
      if (src.kind !== 'max') mismatch(target, src);
      target.v = maxOf(target.v, src.v);
      return;
    case 'distinct':
      if (src.kind !== 'distinct') mismatch(target, src);
      for (const m of src.members) target.members.add(m);
      return;
  }
}

/** target := target ⊕ src for a state in plain form (members as an array), without building a Set first. */
export function mergePlainInto(target: MeasureState, src: PlainMeasureState): void {
  if (src.kind !== 'distinct') return mergeInto(target, src);
  if (target.kind !== 'distinct') mismatch(target, stateFromPlain(src));
  for (const m of src.members) target.members.add(m);
}

export function cloneState(s: MeasureState): MeasureState {
  return s.kind === 'distinct' ? { kind: 'distinct', members: new Set(s.members) } : { ...s };
}

/** a ⊕ b as a new state; neither input is modified. */
export function mergeState(a: MeasureState, b: MeasureState): MeasureState {
  const out = cloneState(a);
  mergeInto(out, b);
  return out;
}

export function statesEqual(a: MeasureState, b: MeasureState): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'count':
      return a.n === (b as typeof a).n;
    case 'sum':
    case 'min':
    case 'max':
      return a.v === (b as typeof a).v;
    case 'distinct': {
      const bm = (b as typeof a).members;
      if (a.members.size !== bm.size) return false;
      for (const m of a.members) if (!bm.has(m)) return false;
      return true;
    }
  }
}

// ---- plain form (crosses worker_threads / JSON cheaply) -------------------------

export type PlainMeasureState =
  | { kind: 'count'; n: number }
  | { kind: 'sum'; v: number }
  | { kind: 'min'; v: number | null }
  | { kind: 'max'; v: number | null }
  | { kind: 'distinct'; members: string[] };

export function stateToPlain(s: MeasureState): PlainMeasureState {
  return s.kind === 'distinct' ? { kind: 'distinct', members: [...s.members] } : { ...s };
}

export function stateFromPlain(p: PlainMeasureState): MeasureState {
  switch (p.kind) {
    case 'distinct':
      return { kind: 'distinct', members: new Set(p.members) };
    case 'count':
      return { kind: 'count', n: p.n };
    case 'sum':
      return { kind: 'sum', v: p.v };
    case 'min':
      return { kind: 'min', v: p.v };
    case 'max':
      return { kind: 'max', v: p.v };
  }
}
