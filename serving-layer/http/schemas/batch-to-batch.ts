/**
 * `batchToBatch` of the drift report (serving-layer/query/batch-to-batch.ts): how the answer's run
 * differs from the kept run published before it. One of three shapes: nothing to compare, the
 * previous run pruned mid-answer, or the comparison (docs/design-decisions.md, "Serving layer").
 */
import { z } from 'zod';
import { count, dims, instant } from './common.js';

const nullableNumber = (what: string) => z.number().nullable().describe(what);

export const batchToBatchChange = z.strictObject({
  start: instant('start of the bucket'),
  dims,
  measures: z
    .record(
      z.string(),
      z.strictObject({
        before: nullableNumber('the value in the previous run (null: no row or no value)'),
        after: nullableNumber('the value in the latest run (null: no row or no value)'),
        diff: nullableNumber('after - before, treating a missing row as 0'),
        abs: nullableNumber('|diff|'),
        rel: nullableNumber('abs / |before|; 0 when both are 0; null when before is 0 and after is not'),
      }),
    )
    .describe('only the measures whose value changed'),
});

const runs = {
  previousRunId: z.string().describe('the kept run published before the latest one'),
  latestRunId: z.string().describe('the run the answer read'),
};

const nothingToCompare = z.strictObject({
  note: z.string().describe('why there is nothing to compare (fewer than two kept runs)'),
  changes: z.array(batchToBatchChange).max(0),
});

const previousPruned = z.strictObject({
  ...runs,
  unavailable: z.string().describe('the previous run was pruned while the answer was built: ask again'),
  changes: z.array(batchToBatchChange).max(0),
});

const compared = z.strictObject({
  ...runs,
  watermarks: z.strictObject({ previous: instant('W of the previous run'), latest: instant('W of the latest run') }),
  boundaries: z.strictObject({
    previous: instant('B_g of the previous run at this granularity'),
    latest: instant('B_g of the latest run at this granularity'),
  }),
  rowsChanged: count('rows changed in buckets both runs served'),
  lateEventsAbsorbed: z
    .int()
    .nullable()
    .describe('count change (first count measure) in buckets both runs served: late data the recomputation absorbed; null without a count measure'),
  newlyCovered: z
    .strictObject({
      from: instant('B_g of the previous run'),
      to: instant('B_g of the latest run (at least from)'),
      buckets: count('buckets of the range in [from, to), empty ones included'),
      bucketsWithEvents: count('of those, buckets with events'),
      events: count("the latest run's count there (first count measure)").nullable().describe('null without a count measure'),
    })
    .describe('buckets served by the latest run and not by the previous one, because W moved: not late data'),
  changes: z.array(batchToBatchChange).max(1000).describe('the rows counted in rowsChanged (at most 1000)'),
});

export const batchToBatch = z.union([compared, previousPruned, nothingToCompare]);

export type BatchToBatchChange = z.infer<typeof batchToBatchChange>;
export type BatchToBatch = z.infer<typeof batchToBatch>;
