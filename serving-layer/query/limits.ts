/**
 * How much one answer may read (docs/design-decisions.md, "Serving layer"): a minute series over
 * 20,000 buckets grouped by a dimension with thousands of values would read and serialise
 * millions of rows and hold the process's memory while doing it. Past the bound the answer is a
 * 400 that names what to narrow, never a truncated answer.
 */
import { LambdaError } from '../../shared/errors.js';
import type { QueryContext } from './context.js';

/** Default of LAMBDA_SERVING_MAX_ANSWER_ROWS. */
export const MAX_ANSWER_ROWS = 1_000_000;

export function maxAnswerRows(ctx: Pick<QueryContext, 'maxAnswerRows'>): number {
  return ctx.maxAnswerRows ?? MAX_ANSWER_ROWS;
}

/** Throws the 400 when `rows` (read so far, both layers) is over the bound. */
export function checkAnswerRows(rows: number, max: number): void {
  if (rows <= max) return;
  const message = `the answer would read more than ${max} rows (bucket x dimension group; LAMBDA_SERVING_MAX_ANSWER_ROWS): group by fewer dimensions, add a filter, narrow from/to or use a coarser granularity`;
  throw new LambdaError('VALIDATION', `query parameter "groupBy": ${message}`, {
    details: { invalidParams: ['groupBy', 'filter', 'from', 'granularity'].map((parameter) => ({ parameter, message })) },
  });
}
