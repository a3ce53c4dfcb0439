/**
 * Monoid state -> the value a user is served. Scaled integers become decimals
 * only here, at the very end, so no layer ever adds floating-point numbers. How
 * a measure's cells finalize is the measure table's (measure-kinds.ts).
 */
import { LambdaError } from '../errors.js';
import type { MeasureDef, ViewDef } from '../views/definition.js';
import { decimalsOf, finalizeCells, kindOf } from './measure-kinds.js';
import type { MeasureState } from './monoids.js';
import { storedValue } from './stored-group.js';

export { unscale } from '../decimal.js';

/** The state of a one-cell measure (count, sum, min, max, distinct) -> its value. */
export function finalizeState(state: MeasureState, def: MeasureDef): number | null {
  const cells = kindOf(def).cells;
  if (cells.length !== 1 || cells[0]?.cell !== state.kind) {
    throw new LambdaError('INTERNAL', `a ${state.kind} state cannot finalize as a ${def.type} measure`);
  }
  return kindOf(def).finalize([storedValue(state)], decimalsOf(def));
}

/** All measures of a group (its cell states), keyed by measure name in the view's order. */
export function finalizeMeasures(view: ViewDef, cells: Readonly<Record<string, MeasureState>>): Record<string, number | null> {
  const stored: Record<string, number | null> = {};
  for (const name in cells) stored[name] = storedValue(cells[name] as MeasureState);
  for (const name in view.measures) {
    if (!Object.hasOwn(cells, name)) throw new LambdaError('INTERNAL', `group of view "${view.name}" lacks measure "${name}"`);
  }
  return finalizeCells(view, stored);
}
