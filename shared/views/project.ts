/**
 * One event seen through one view: its group (dimension values) and what it adds
 * to each measure. This is the "map" step shared by batch and speed; both then
 * bucket it at every granularity of the view and combine with the monoids.
 *
 * Validation (events.ts) is this same function: an event is valid for a view
 * exactly when it can be projected, and the first field that cannot be read is
 * the reason it is not. So "valid" and "projectable" cannot drift apart, and a
 * caller that needs both (the batch map workers) gets them in one pass.
 */
import { LambdaError } from '../errors.js';
import type { MeasureDef, ViewDef } from './definition.js';
import { dimensionValue, distinctMember, fieldValue, isFieldError, measureNumber, viewMatches, type FieldError } from './fields.js';

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

/** Why an event cannot feed a view: the first field (dimensions first, then measures, in view order). */
export interface FieldProblem {
  field: string;
  /** e.g. `field "amount" must be a number, got string (view "revenue")` */
  message: string;
}

function problem(view: ViewDef, field: string, r: FieldError): FieldProblem {
  return { field, message: `field "${field}" ${r.error} (view "${view.name}")` };
}

/** By the shape of the definition, which is what the measure reads (measure-kinds.ts `reads`). */
function contribution(m: MeasureDef, body: Readonly<Record<string, unknown>>): Contribution | FieldError {
  if (!('field' in m)) return 1;
  if (!('decimals' in m)) return distinctMember(fieldValue(body, m.field));
  return measureNumber(fieldValue(body, m.field), m.decimals);
}

/**
 * The projection of `body` through `view`; null when the view's filter does not
 * match; a FieldProblem when a field the view reads has the wrong type.
 */
export function projectBody(view: ViewDef, body: Readonly<Record<string, unknown>>): Projection | FieldProblem | null {
  if (!viewMatches(view, body)) return null;
  const dims: (string | null)[] = [];
  for (const d of view.dimensions) {
    const v = dimensionValue(fieldValue(body, d));
    if (isFieldError(v)) return problem(view, d, v);
    dims.push(v);
  }
  const measures: Record<string, Contribution> = {};
  for (const name in view.measures) {
    const m = view.measures[name] as MeasureDef;
    const c = contribution(m, body);
    if (isFieldError(c)) return problem(view, 'field' in m ? m.field : name, c);
    measures[name] = c;
  }
  return { dims, measures };
}

export function isFieldProblem(p: Projection | FieldProblem | null): p is FieldProblem {
  return p !== null && 'message' in p;
}

/**
 * null when the view's filter does not match. The event (a LambdaEvent; typed by
 * its body only, so this module does not import events.ts, which imports it) must have passed
 * validateEvent with a view set containing `view`; a field it cannot project
 * is a programming error and throws (it would otherwise be a silent wrong number).
 */
export function project(view: ViewDef, event: { readonly body: Readonly<Record<string, unknown>> }): Projection | null {
  const p = projectBody(view, event.body);
  if (isFieldProblem(p)) throw new LambdaError('VALIDATION', `${p.message}; validate events before projecting`);
  return p;
}
