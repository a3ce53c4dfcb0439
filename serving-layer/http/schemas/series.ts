/** GET /api/v1/views/{view}/series: the merged series (serving-layer/query/series.ts). */
import { z } from 'zod';
import { batchRef, coveredSince, dims, incompleteBucket, incompleteReason, instant, provenance, queryEcho, source, values, warnings } from './common.js';
import { speedPartition } from './speed.js';
import { measureDefinition } from './views.js';

export const seriesBucket = z.strictObject({
  start: instant('start of the bucket, inclusive'),
  end: instant('end of the bucket, exclusive'),
  source,
  complete: z.boolean().describe('false when neither layer holds the bucket whole (see incompleteReason)'),
  incompleteReason: incompleteReason.optional().describe('present when complete is false'),
  groups: z.array(z.strictObject({ dims, values })).describe('one per dimension group kept (groupBy); a bucket with no events has none'),
});

export const seriesAnswer = z.strictObject({
  ...queryEcho,
  measures: z.record(z.string(), measureDefinition).describe('the measures answered (the `measures` parameter, default all), with their definitions'),
  batch: batchRef
    .extend({ finishedAt: instant('when the run was published') })
    .nullable()
    .describe('the published batch run the answer read; null before the first run (every bucket is then speed-served)'),
  speed: z.strictObject({
    coveredSince,
    partitions: z.array(speedPartition).describe("per partition: offset, lag and the consumer's last report"),
    readAt: z
      .number()
      .int()
      .describe(
        'when the answer read the speed layer (epoch ms): it is as of this moment. Reads are shared and reused for at most LAMBDA_SERVING_SPEED_MAX_STALE_MS (header Lambda-Speed-Max-Stale-Ms)',
      ),
  }),
  provenance,
  incomplete: z.array(incompleteBucket).describe('the buckets no layer holds whole, with the reason; also counted in the Lambda-Incomplete-Buckets header'),
  unavailable: z
    .array(z.string())
    .describe(
      'distinct measures that are null where groups of batch buckets were combined, because the batch run keeps no HyperLogLog sketches (exact distinct counts cannot be added)',
    ),
  approximate: z
    .array(z.string())
    .describe(
      "distinct measures with values that are HyperLogLog estimates: every speed bucket's, and every group that combines several stored groups (`groupBy`), whose value is the union of their sketches (batch run and speed layer alike)",
    ),
  standardError: z
    .record(z.string(), z.number().positive())
    .describe("approximate distinct measure -> relative standard error of its estimates (Redis's HyperLogLog: 1.04 / sqrt(16384), about 0.0081)"),
  warnings,
  buckets: z.array(seriesBucket),
});

export type SeriesBucket = z.infer<typeof seriesBucket>;
export type SeriesAnswer = z.infer<typeof seriesAnswer>;
