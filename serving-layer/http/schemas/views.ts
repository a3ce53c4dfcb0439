/** GET /api/v1/views and /api/v1/views/{view}: the view definitions as loaded (shared/views/definition.ts). */
import { z } from 'zod';
import { granularity } from './common.js';
import { MEMBER_KINDS, ROW_KINDS, SCALED_KINDS } from '../../../shared/aggregate/measure-kinds.js';

const field = z.string().describe('the event field it reads');

/** shared/aggregate/measure-kinds.ts MeasureFold: what a client of final values needs, from the measure table. */
const fold = z
  .strictObject({
    decimals: z.int().nonnegative().describe('decimals to show'),
    empty: z.number().nullable().describe('the value of a bucket without rows'),
    combine: z.enum(['add', 'min', 'max']).nullable().describe('how values of several rows combine; null: they cannot (several rows have no value)'),
    sketched: z.boolean().describe('a distinct measure: its total over a range is a union of sketches (totals), not a combination of values'),
  })
  .describe('how the measure behaves for a client that sees final values, from the measure table');

/** A measure's definition; with `fold` in the views answers (what the dashboard reads). */
function measureSchema<S extends z.ZodRawShape>(extra: S) {
  return z
    .discriminatedUnion('type', [
      // The kinds by what they read, from the measure table (shared/aggregate/measure-kinds.ts).
      z.strictObject({ type: z.enum(ROW_KINDS), ...extra }),
      z.strictObject({
        type: z.enum(SCALED_KINDS),
        field,
        decimals: z.int().nonnegative().describe('values are exact to this many decimals'),
        ...extra,
      }),
      z.strictObject({ type: z.enum(MEMBER_KINDS), field, ...extra }),
    ])
    .describe(`a measure: ${ROW_KINDS.join(', ')}; ${SCALED_KINDS.join(', ')} (of a field, exact to \`decimals\`); ${MEMBER_KINDS.join(', ')} (of a field)`);
}

/** In the series answer: the definition only. */
export const measureDefinition = measureSchema({});
export const measureDef = measureSchema({ fold });

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
