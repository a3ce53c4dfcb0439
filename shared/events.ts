/**
 * Event validation (docs/design-decisions.md §2). Every layer runs exactly this, so an event is
 * either valid everywhere or invalid everywhere with the same reason; invalid
 * events go to the DLQ / a 400 / the batch run's counts, never silently away.
 */
import { isStorableText, MAX_EVENT_DEPTH, MAX_ID_LENGTH, NOT_STORABLE, tooDeepField } from './event-limits.js';
import { parseEventTime } from './time.js';
import type { ViewSet } from './views/definition.js';
import { describeType } from './views/fields.js';
import { isFieldProblem, projectBody, type Projection } from './views/project.js';

export interface LambdaEvent {
  /** unique per real-world event; the dedupe key */
  id: string;
  /** event time, epoch ms UTC (an ISO `ts` in the input is converted) */
  ts: number;
  /** the whole parsed object as received, `id` and `ts` included (raw `ts`) */
  body: Record<string, unknown>;
}

import type { InvalidReason } from './invalid-reasons.js';

export { INVALID_REASONS, type InvalidReason } from './invalid-reasons.js';

export type ParseResult = { ok: true; event: LambdaEvent } | { ok: false; reason: InvalidReason; message: string };

/**
 * A valid event with what validating it computed anyway: its projection through
 * every view (index-aligned with `views.views`; null where the filter does not
 * match). The batch map step folds these directly instead of projecting again.
 */
export type ProjectedResult = { ok: true; event: LambdaEvent; projections: (Projection | null)[] } | { ok: false; reason: InvalidReason; message: string };

// The limits every layer enforces through this module (docs/design-decisions.md §2, "Limits").
export { MAX_EVENT_DEPTH, MAX_ID_LENGTH, MAX_VALUE_LENGTH } from './event-limits.js';

function invalid(reason: InvalidReason, message: string): { ok: false; reason: InvalidReason; message: string } {
  return { ok: false, reason, message };
}

/** One JSONL line / one Kafka message value. */
export function parseEventLine(text: string, views: ViewSet): ParseResult {
  return withoutProjections(parseProjectedLine(text, views));
}

export function validateEvent(value: unknown, views: ViewSet): ParseResult {
  return withoutProjections(validateAndProject(value, views));
}

/** parseEventLine, keeping the projections validation computed. */
export function parseProjectedLine(text: string, views: ViewSet): ProjectedResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return invalid('not_json', `not valid JSON: ${(e as Error).message}`);
  }
  return validateAndProject(value, views);
}

/** validateEvent, keeping the projections validation computed. */
export function validateAndProject(value: unknown, views: ViewSet): ProjectedResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid('not_object', `event must be a JSON object, got ${describeType(value)}`);
  }
  const body = value as Record<string, unknown>;
  // null counts as missing: `"id": null` is what serialisers emit for an unset field.
  const id = Object.hasOwn(body, 'id') ? body.id : undefined;
  if (id === undefined || id === null) return invalid('missing_id', 'event has no "id"');
  if (typeof id !== 'string') return invalid('bad_id', `"id" must be a string, got ${describeType(id)}`);
  if (id.length === 0) return invalid('bad_id', '"id" must not be empty');
  if (id.length > MAX_ID_LENGTH) return invalid('bad_id', `"id" is ${id.length} characters long; at most ${MAX_ID_LENGTH}`);
  if (!isStorableText(id)) return invalid('bad_id', `"id" ${NOT_STORABLE}`);

  const rawTs = Object.hasOwn(body, 'ts') ? body.ts : undefined;
  if (rawTs === undefined || rawTs === null) return invalid('missing_ts', 'event has no "ts"');
  const ts = parseEventTime(rawTs);
  if (typeof ts !== 'number') return invalid('bad_ts', ts.error);

  // Before anything walks the body: a valid event is safe to JSON.stringify (the ingest route does).
  const deep = tooDeepField(body);
  if (deep !== null) {
    return invalid(
      'bad_field',
      `field "${deep}" nests arrays or objects more than ${MAX_EVENT_DEPTH} levels deep (the event is level 1); at most ${MAX_EVENT_DEPTH}`,
    );
  }

  // Valid means projectable through every view whose filter matches (views/project.ts).
  const projections: (Projection | null)[] = [];
  for (const view of views.views) {
    const p = projectBody(view, body);
    if (isFieldProblem(p)) return invalid('bad_field', p.message);
    projections.push(p);
  }
  return { ok: true, event: { id, ts, body }, projections };
}

function withoutProjections(r: ProjectedResult): ParseResult {
  return r.ok ? { ok: true, event: r.event } : r;
}
