/**
 * Pieces every answer shares. The response schemas say what the server sends (their output is
 * published in /openapi.json); the routes' handlers return their types and the dashboard imports
 * them type-only (docs/design-decisions.md, "Serving layer"). So this folder imports only zod and
 * shared/ (pure), never server code: .dependency-cruiser.cjs checks it.
 */
import { z } from 'zod';
import { GRANULARITIES, type Granularity } from '../../../shared/time.js';
import type { IncompleteReason, Source } from '../../../shared/merge.js';

/**
 * A zod enum of exactly the members of the union U: a member of U missing from `values` fails to
 * compile, as does a value not in U, so a name added in shared/ must be added to the answer too.
 */
export function enumOf<U extends string>() {
  return <const V extends readonly [U, ...U[]]>(values: V & ([U] extends [V[number]] ? unknown : never)) => z.enum(values);
}

/** An instant: UTC epoch milliseconds. */
export const instant = (what: string) => z.int().describe(`${what} (epoch ms, UTC)`);

/** A number of things: never negative. */
export const count = (what: string) => z.int().nonnegative().describe(what);

export const granularity = z.enum(GRANULARITIES as readonly Granularity[] as [Granularity, ...Granularity[]]).describe('bucket size');

export const source = enumOf<Source>()(['batch', 'speed']).describe('the layer that answered: batch (the published run, exact) or speed (Redis, realtime)');

export const incompleteReason = enumOf<IncompleteReason>()(['speed_not_covered', 'speed_expired']).describe(
  "speed_not_covered: the bucket starts before the speed layer's coveredSince (or coverage is unknown); speed_expired: its Redis keys may have expired (the batch run is older than the speed retention)",
);

export const dims = z.record(z.string(), z.string().nullable()).describe('dimension name -> value; null is the missing value');

export const values = z
  .record(z.string(), z.number().nullable())
  .describe('measure name -> value; null: no value (min or max of nothing) or unavailable (an exact distinct count cannot be added up)');

export const filter = z.record(z.string(), z.string().nullable()).describe('the filter applied: dimension -> value (null selects the missing value)');

/** The same unions as shared/'s (enumOf checks it). */
export type { Granularity, Source };
export type Dims = z.infer<typeof dims>;
export type Values = z.infer<typeof values>;

export const incompleteBucket = z.strictObject({
  bucketStart: instant('start of the bucket'),
  source,
  reason: incompleteReason,
});

/** The run an answer read (one run per answer, docs/design-decisions.md, "Serving layer"). */
export const batchRef = z.strictObject({
  runId: z.string().describe('the published batch run the answer read'),
  watermark: instant('W: the run is complete for events up to here'),
  boundary: instant('B_g = floor_g(W): buckets before it come from this run').nullable(),
});

export const coveredSince = instant('event time from which the speed views are complete; null before the speed layer first started').nullable();

export const provenance = z.string().describe('where the numbers come from, in a sentence');

export const warnings = z.array(z.string()).describe('what a reader must know before trusting the numbers, one sentence each');

/** The first fields of series and totals: what was asked, as resolved (serving-layer/query/series.ts queryEcho). */
export const queryEcho = {
  view: z.string(),
  granularity,
  from: instant('start of the range, inclusive'),
  to: instant('end of the range, exclusive'),
  groupBy: z.array(z.string()).describe('the dimensions kept; the others are rolled up'),
  filter,
};
