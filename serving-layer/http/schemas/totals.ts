/** GET /api/v1/views/{view}/totals: totals over a range (serving-layer/query/totals.ts). */
import { z } from 'zod';
import { batchRef, count, coveredSince, dims, incompleteBucket, provenance, queryEcho, values, warnings } from './common.js';

export const totalsAnswer = z.strictObject({
  ...queryEcho,
  batch: batchRef.nullable().describe('the published batch run the answer read; null before the first run'),
  speed: z.strictObject({ coveredSince }),
  sources: z.strictObject({
    batchBuckets: count('buckets of the range served by the batch run'),
    speedBuckets: count('buckets of the range served by the speed layer'),
  }),
  provenance,
  approximate: z
    .array(z.string())
    .describe(
      "distinct measures with at least one total that is a HyperLogLog estimate: the union of the batch run's sketches and the speed layer's HLLs over the range (or one speed bucket's count). A total read from one batch bucket row of a group is exact; each total says which of its values are estimates (`approximate`)",
    ),
  standardError: z
    .record(z.string(), z.number().positive())
    .describe("approximate distinct measure -> relative standard error of its estimates (Redis's HyperLogLog: 1.04 / sqrt(16384), about 0.0081)"),
  unavailable: z
    .record(z.string(), z.string())
    .describe(
      'distinct measure -> why some of its totals are null: only when a union would need the sketches of a batch run that keeps none (exact distinct counts cannot be added up)',
    ),
  incomplete: z.array(incompleteBucket).describe('buckets of the range no layer holds whole: these totals are short there'),
  warnings,
  totals: z
    .array(
      z.strictObject({
        dims,
        values,
        buckets: count('buckets of the range where the group has events'),
        approximate: z
          .array(z.string())
          .optional()
          .describe('distinct measures whose value in this total is a HyperLogLog estimate (see standardError); absent: every value is exact'),
      }),
    )
    .describe("one per dimension group, ranked by the view's first measure (top `limit`)"),
});

export type TotalsAnswer = z.infer<typeof totalsAnswer>;
