/**
 * GET /api/v1/views/{view}/drift: drift between the layers with its causes, and batch to batch
 * (serving-layer/query/drift.ts; the causes: docs/design-decisions.md, "Drift").
 */
import { z } from 'zod';
import type { AttributedCause } from '../../../shared/drift-attribution.js';
import { batchRef, count, coveredSince, dims, enumOf, granularity, incompleteReason, instant } from './common.js';
import { batchToBatch } from './batch-to-batch.js';

export type DriftCause = AttributedCause['cause'] | 'hll_estimate';

export const driftCause = enumOf<DriftCause>()([
  'not_archived_at_snapshot',
  'arrived_during_batch_run',
  'late_arrivals',
  'duplicates',
  'unchecked_copies',
  'speed_behind_run',
  'unexplained',
  'hll_estimate',
]).describe(
  'exact: not_archived_at_snapshot, arrived_during_batch_run, late_arrivals, duplicates; bounded: unchecked_copies, speed_behind_run; the residual: unexplained; distinct counts: hll_estimate',
);

const nullableNumber = (what: string) => z.number().nullable().describe(what);

export const measureDrift = z.strictObject({
  batch: nullableNumber("the batch run's value (0 for a missing count or sum row; null: no value)"),
  speed: nullableNumber("the speed layer's value (0 for a missing count or sum row; null: no value)"),
  diff: nullableNumber('speed - batch; null when one side has no value'),
  abs: nullableNumber('|speed - batch|; null when one side has no value'),
  rel: nullableNumber('abs / |batch|; 0 when both agree; null when batch is 0 and speed is not, or a side has no value'),
  batchSketch: z
    .number()
    .nullable()
    .optional()
    .describe(
      "distinct measures: the estimate of the batch run's own HyperLogLog of this row (null: the run keeps no sketches); it differs from `batch` by HyperLogLog error alone, the same kind of error as the speed layer's",
    ),
});

export const driftBucket = z.strictObject({
  start: instant('start of the bucket'),
  end: instant('end of the bucket'),
  late: count('events the speed layer holds that the run cannot have (arrived after its snapshot): the sum of the three timing causes'),
  duplicates: count('duplicates the speed layer applied here (dedupe off)'),
  countDiff: z.int().describe('speed count - batch count of the bucket (first count measure, every row)'),
  unexplained: z.int().describe('the part of countDiff no cause explains; 0 when the known causes are the only ones'),
  causes: z.array(
    z.strictObject({
      cause: driftCause,
      events: z.int().optional().describe('events of countDiff this cause accounts for (negative for speed_behind_run); absent for hll_estimate'),
      exact: z.boolean().optional().describe('true: counted exactly; false: at most this many; absent for hll_estimate'),
      detail: z.string().describe('the cause in a sentence, naming the run'),
    }),
  ),
  rows: z.array(z.strictObject({ dims, measures: z.record(z.string(), measureDrift).describe('per measure asked for') })),
});

export const measureSummary = z.strictObject({
  rowsCompared: count('rows of the buckets both layers hold (a row either layer has)'),
  rowsDiffering: count('of those, rows whose values differ (one side without a value included)'),
  rowsWithRelative: count('rows where the relative difference exists'),
  meanRelative: z.number().nullable().describe('mean relative difference over rowsWithRelative rows; null when there are none'),
  maxRelative: z.number().nullable().describe('largest relative difference; null when there is none'),
  batchSketchMeanRelative: z
    .number()
    .nullable()
    .optional()
    .describe(
      "distinct measures: mean |batchSketch - batch| / batch over the rows with batch > 0: the error the batch layer's own sketch has (null: no such row, or the run keeps no sketches)",
    ),
  batchSketchMaxRelative: z.number().nullable().optional().describe('distinct measures: the largest of those'),
});

export const driftAnswer = z.strictObject({
  view: z.string(),
  granularity,
  from: instant('start of the range, inclusive'),
  to: instant('end of the range, exclusive'),
  batch: batchRef.nullable().describe('the published batch run compared; null before the first run'),
  speed: z.strictObject({
    coveredSince,
    readAt: z
      .number()
      .int()
      .describe(
        'when the answer read the speed layer (epoch ms): it is as of this moment. Reads are shared and reused for at most LAMBDA_SERVING_SPEED_MAX_STALE_MS (header Lambda-Speed-Max-Stale-Ms)',
      ),
  }),
  provenance: z.string(),
  bucketsCompared: count("buckets both layers hold: before the boundary, inside the speed layer's coverage and retention"),
  notCompared: z
    .array(z.strictObject({ start: instant('start of the bucket'), reason: incompleteReason }))
    .describe('buckets before the boundary that the speed layer does not hold whole, with the reason'),
  note: z.string().optional().describe('why no bucket was compared; present only then'),
  summary: z.record(z.string(), measureSummary).describe('per measure asked for'),
  unexplainedEvents: count('events of the count differences no cause explains, all buckets (should be 0)'),
  warning: z.string().optional().describe('present when unexplainedEvents > 0'),
  buckets: z.array(driftBucket).describe('one per bucket compared'),
  batchToBatch,
});

export type MeasureDrift = z.infer<typeof measureDrift>;
export type DriftBucket = z.infer<typeof driftBucket>;
export type DriftAnswer = z.infer<typeof driftAnswer>;
