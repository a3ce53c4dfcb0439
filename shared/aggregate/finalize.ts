/**
 * Monoid state -> the value a user is served. Scaled integers become decimals
 * only here, at the very end, so no layer ever adds floating-point numbers.
 */
import { LambdaError } from '../errors.js';
import { unscale } from '../decimal.js';
import type { MeasureDef, ViewDef } from '../views/definition.js';
import type { MeasureState } from './monoids.js';

export { unscale } from '../decimal.js';

/**
 * count -> n; sum -> unscaled total (0 when nothing was summed, as SQL's
 * COALESCE(SUM(x), 0) would give); min/max -> unscaled value or null when no
 * event carried the field; distinct -> exact number of members.
 */
export function finalizeState(state: MeasureState, def: MeasureDef): number | null {
  switch (def.type) {
    case 'count':
      if (state.kind === 'count') return state.n;
      break;
    case 'distinct':
      if (state.kind === 'distinct') return state.members.size;
      break;
    case 'sum':
      if (state.kind === 'sum') return unscale(state.v, def.decimals);
      break;
    case 'min':
    case 'max':
      if ((state.kind === 'min' || state.kind === 'max') && state.kind === def.type) {
        return state.v === null ? null : unscale(state.v, def.decimals);
      }
      break;
  }
  throw new LambdaError('INTERNAL', `a ${state.kind} state cannot finalize as a ${def.type} measure`);
}

/** All measures of a group, keyed by measure name in the view's order. */
export function finalizeMeasures(view: ViewDef, measures: Readonly<Record<string, MeasureState>>): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const name in view.measures) {
    const s = measures[name];
    if (s === undefined) throw new LambdaError('INTERNAL', `group of view "${view.name}" lacks measure "${name}"`);
    out[name] = finalizeState(s, view.measures[name] as MeasureDef);
  }
  return out;
}
