/** GET /api/v1/views and /api/v1/views/{view}: the view definitions as loaded (shared/views/definition.ts). */
import { z } from 'zod';
import { granularity } from './common.js';

const field = z.string().describe('the event field it reads');

export const measureDef = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('count') }),
    z.strictObject({
      type: z.enum(['sum', 'min', 'max']),
      field,
      decimals: z.int().nonnegative().describe('values are exact to this many decimals'),
    }),
    z.strictObject({ type: z.literal('distinct'), field }),
  ])
  .describe('a measure: count, sum, min, max (of a field, exact to `decimals`) or distinct (of a field)');

export const viewDef = z.strictObject({
  name: z.string(),
  description: z.string(),
  dimensions: z.array(z.string()).describe('in order: the columns of every row'),
  filter: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).describe('events must equal these fields to count ({} = every event)'),
  measures: z.record(z.string(), measureDef).describe('in the order of the views file'),
  granularities: z.array(granularity),
});

export const viewsAnswer = z.strictObject({
  source: z.string().describe('the views file they were loaded from'),
  hash: z.string().describe('stable hash of the definitions; each batch run records the one it computed'),
  views: z.array(viewDef),
});

export type MeasureDef = z.infer<typeof measureDef>;
export type ViewDef = z.infer<typeof viewDef>;
export type ViewsAnswer = z.infer<typeof viewsAnswer>;
