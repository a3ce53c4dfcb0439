/**
 * Query parameters shared by series, totals and drift, as zod schemas: they validate requests
 * and document them in /openapi.json. Errors name the parameter (route.ts).
 */
import { z } from 'zod';
import { GRANULARITIES, bucketsInRange, floorTo, granularityMs, parseEventTime, type Granularity } from '../../shared/time.js';
import type { ViewDef } from '../../shared/views/definition.js';
import { LambdaError } from '../../shared/errors.js';
import { MAX_VALUE_LENGTH } from '../../shared/events.js';

/** epoch ms or ISO-8601 with a zone, the same rule as event times. */
const instant = z.string().transform((raw, ctx) => {
  const asNumber = /^\d+$/.test(raw) ? Number(raw) : raw;
  const t = parseEventTime(asNumber);
  if (typeof t === 'number') return t;
  // parseEventTime speaks of an event's "ts"; here the parameter is already named (route.ts).
  ctx.addIssue({ code: 'custom', message: `must be epoch milliseconds or ISO-8601 with a zone (${t.error.replace(/^ts /, '')})` });
  return z.NEVER;
});

const list = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

/** The most groups one answer may rank (`limit`). */
export const MAX_LIMIT = 10_000;
const limitMessage = `must be a whole number from 1 to ${MAX_LIMIT}`;

// Strict: an unknown parameter is a 400 naming it (route.ts), not a typo answered with defaults.
export const rangeQuery = z.strictObject({
  granularity: z
    .enum(GRANULARITIES as unknown as [Granularity, ...Granularity[]])
    .default('hour')
    .describe('bucket size: minute, hour or day'),
  from: instant.optional().describe('start of the range, inclusive (epoch ms or ISO-8601 with zone); default: 24 buckets before `to`'),
  to: instant.optional().describe('end of the range, exclusive (epoch ms or ISO-8601 with zone); default: the end of the current bucket'),
  filter: list.optional().describe('dimension filter, repeatable: `dimension:value`, or just `dimension` for the missing value'),
  groupBy: z.string().optional().describe("comma-separated dimensions to group by (default: all of the view's dimensions; empty: none)"),
  limit: z.coerce
    .number({ error: limitMessage })
    .int({ error: limitMessage })
    .min(1, { error: limitMessage })
    .max(MAX_LIMIT, { error: limitMessage })
    .optional()
    .describe('keep the top N groups, ranked by the first measure over the range'),
  measures: z
    .string()
    .optional()
    .describe("comma-separated measures to answer (default: all of the view's); values, warnings, `unavailable` and `approximate` then concern only these"),
});

export type RangeQuery = z.infer<typeof rangeQuery>;

/** The largest number of buckets one query may span: keeps a typo from asking for a decade of minutes. */
export const MAX_BUCKETS = 20_000;

export interface ResolvedQuery {
  granularity: Granularity;
  from: number;
  to: number;
  buckets: number[];
  filter: Record<string, string | null>;
  groupBy: string[];
  limit: number | null;
  /** the measures asked for, in the view's order (default: all of them) */
  measures: string[];
}

/** A 400 naming the query parameter, in the message and in `invalidParams` (as route.ts does for schema errors). */
function badParam(parameter: string, message: string): LambdaError {
  return new LambdaError('VALIDATION', `query parameter "${parameter}": ${message}`, { details: { invalidParams: [{ parameter, message }] } });
}

/** Applies defaults and checks the parameters against the view: unknown dimensions are named. */
export function resolveQuery(view: ViewDef, q: RangeQuery, now: number): ResolvedQuery {
  const g = q.granularity;
  if (!view.granularities.includes(g)) {
    throw badParam('granularity', `view "${view.name}" has no ${g} granularity (it has ${view.granularities.join(', ')})`);
  }
  const to = q.to ?? floorTo(now, g) + granularityMs(g);
  const from = q.from ?? to - 24 * granularityMs(g);
  if (from >= to) throw badParam('from', `must be before "to" (${new Date(from).toISOString()} >= ${new Date(to).toISOString()})`);
  const span = Math.ceil((to - floorTo(from, g)) / granularityMs(g));
  if (span > MAX_BUCKETS) throw badParam('from', `the range spans ${span} ${g} buckets; at most ${MAX_BUCKETS}`);
  const filter: Record<string, string | null> = {};
  for (const f of q.filter ?? []) {
    const i = f.indexOf(':');
    const dim = i < 0 ? f : f.slice(0, i);
    if (!view.dimensions.includes(dim)) {
      throw badParam('filter', `view "${view.name}" has no dimension "${dim}" (it has ${view.dimensions.join(', ') || 'none'})`);
    }
    // Refused, not overwritten: the first value would silently stop counting.
    if (Object.hasOwn(filter, dim)) throw badParam('filter', `dimension "${dim}" is filtered more than once`);
    const value = i < 0 ? null : f.slice(i + 1);
    // No stored group can hold a longer value (docs/design-decisions.md §2, "Limits").
    if (value !== null && value.length > MAX_VALUE_LENGTH) {
      throw badParam('filter', `the value for dimension "${dim}" is ${value.length} characters long; at most ${MAX_VALUE_LENGTH}`);
    }
    filter[dim] = value;
  }
  const groupBy =
    q.groupBy === undefined
      ? [...view.dimensions]
      : q.groupBy
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  for (const [i, d] of groupBy.entries()) {
    if (!view.dimensions.includes(d)) throw badParam('groupBy', `view "${view.name}" has no dimension "${d}"`);
    // Refused rather than de-duplicated: a repeat is most likely a typo for another dimension,
    // and every check that compares groupBy with the view's dimensions must see a set.
    if (groupBy.indexOf(d) !== i) throw badParam('groupBy', `dimension "${d}" is listed more than once (${q.groupBy})`);
  }
  return {
    granularity: g,
    from,
    to,
    buckets: bucketsInRange(from, to, g),
    filter,
    groupBy,
    limit: q.limit ?? null,
    measures: resolveMeasures(view, q.measures),
  };
}

function resolveMeasures(view: ViewDef, raw: string | undefined): string[] {
  const all = Object.keys(view.measures);
  if (raw === undefined) return all;
  const asked = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (asked.length === 0) throw badParam('measures', `name at least one measure (view "${view.name}" has ${all.join(', ')})`);
  for (const [i, m] of asked.entries()) {
    if (!Object.hasOwn(view.measures, m)) throw badParam('measures', `view "${view.name}" has no measure "${m}" (it has ${all.join(', ')})`);
    if (asked.indexOf(m) !== i) throw badParam('measures', `measure "${m}" is listed more than once (${raw})`);
  }
  return all.filter((m) => asked.includes(m));
}
