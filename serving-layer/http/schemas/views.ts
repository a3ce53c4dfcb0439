/** GET /api/v1/views and /api/v1/views/{view}: the view definitions as loaded (shared/views/definition.ts). */
import { z } from 'zod';
import { granularity } from './common.js';
import { MEMBER_KINDS, ROW_KINDS, SCALED_KINDS } from '../../../shared/aggregate/measure-kinds.js';

const field = z.string().describe('the event field it reads');

export const measureDef = z
  .discriminatedUnion('type', [
    // The kinds by what they read, from the measure table (shared/aggregate/measure-kinds.ts).
    z.strictObject({ type: z.enum(ROW_KINDS) }),
    z.strictObject({
      type: z.enum(SCALED_KINDS),
      field,
      decimals: z.int().nonnegative().describe('values are exact to this many decimals'),
    }),
    z.strictObject({ type: z.enum(MEMBER_KINDS), field }),
  ])
  .describe(`a measure: ${ROW_KINDS.join(', ')}; ${SCALED_KINDS.join(', ')} (of a field, exact to \`decimals\`); ${MEMBER_KINDS.join(', ')} (of a field)`);

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
