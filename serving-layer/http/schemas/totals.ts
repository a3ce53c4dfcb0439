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
  approximate: z.array(z.string()).describe('distinct measures answered as a union of the speed layer\'s HyperLogLogs (estimates, about 0.81% standard error)'),
  unavailable: z.record(z.string(), z.string()).describe('distinct measure -> why its totals are null (exact distinct counts cannot be added up)'),
  incomplete: z.array(incompleteBucket).describe('buckets of the range no layer holds whole: these totals are short there'),
  warnings,
  totals: z
    .array(
      z.strictObject({
        dims,
        values,
        buckets: count('buckets of the range where the group has events'),
      }),
    )
    .describe('one per dimension group, ranked by the view\'s first measure (top `limit`)'),
});

export type TotalsAnswer = z.infer<typeof totalsAnswer>;
