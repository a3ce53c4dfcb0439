/**
 * One event seen through one view: its group (dimension values) and what it adds
 * to each measure. This is the "map" step shared by batch and speed; both then
 * bucket it at every granularity of the view and combine with the monoids.
 */
import { LambdaError } from '../errors.js';
import type { LambdaEvent } from '../events.js';
import type { MeasureDef, ViewDef } from './definition.js';
import { dimensionValue, distinctMember, fieldValue, isFieldError, measureNumber, viewMatches } from './fields.js';

/**
 * count -> 1; sum/min/max -> scaled integer (value * 10^decimals) or null when
 * the field is missing/null; distinct -> member string (numbers via String(n),
 * so 7 and "7" are one member) or null.
 */
export type Contribution = number | string | null;

export interface Projection {
  /** one entry per view dimension, in order; missing/null -> null */
  dims: (string | null)[];
  /** keyed by measure name, in the view's measure order */
  measures: Record<string, Contribution>;
}

/**
 * null when the view's filter does not match. The event must have passed
 * validateEvent with a view set containing `view`; a field it cannot project
 * is a programming error and throws (it would otherwise be a silent wrong number).
 */
export function project(view: ViewDef, event: LambdaEvent): Projection | null {
  const body = event.body;
  if (!viewMatches(view, body)) return null;
  const dims: (string | null)[] = [];
  for (const d of view.dimensions) dims.push(must(view, d, dimensionValue(fieldValue(body, d))));
  const measures: Record<string, Contribution> = {};
  for (const name in view.measures) {
    measures[name] = contribution(view, view.measures[name] as MeasureDef, body);
  }
  return { dims, measures };
}

function contribution(view: ViewDef, m: MeasureDef, body: Record<string, unknown>): Contribution {
  switch (m.type) {
    case 'count':
      return 1;
    case 'distinct':
      return must(view, m.field, distinctMember(fieldValue(body, m.field)));
    default:
      return must(view, m.field, measureNumber(fieldValue(body, m.field), m.decimals));
  }
}

function must<T>(view: ViewDef, field: string, r: T | { error: string }): T {
  if (isFieldError(r)) {
    throw new LambdaError('VALIDATION', `field "${field}" ${r.error} (view "${view.name}"); validate events before projecting`);
  }
  return r as T;
}
