/**
 * The Kappa rebuild (issue 20; docs/design-decisions.md, "Lambda vs Kappa"): POST
 * /api/v1/kappa/rebuilds starts one, GET /api/v1/kappa/rebuilds follows it and shows the last
 * result: the speed layer's code replayed over the whole retained log into its own key prefix,
 * beside the published batch run, bucket by bucket.
 */
import { z } from 'zod';
import type { KappaBucketStatus } from '../../../shared/kappa/compare.js';
import { count, enumOf, granularity, instant } from './common.js';

const bucketStatus = enumOf<KappaBucketStatus>()(['equal', 'different', 'not_rebuildable', 'newer_in_log']).describe(
  'equal: every group has the same value of every exact measure; not_rebuildable: records of the bucket were deleted from the log (retention), the master dataset still has them; newer_in_log: the replay also applied events that arrived after the batch run read the master dataset, and the count differs by exactly those; different: none of these (should not happen)',
);

const measureValues = z.record(z.string(), z.number().nullable()).describe('exact measure -> total over the groups of the bucket');

const kappaBucket = z.strictObject({
  start: instant('bucket start'),
  status: bucketStatus,
  batch: measureValues,
  kappa: measureValues,
  groupsDiffering: count('groups whose values differ'),
  lostEvents: count('events of the bucket deleted from the log before the replay'),
  newerEvents: count('events the replay applied that arrived after the batch run snapshot'),
});

const comparison = z.strictObject({
  view: z.string(),
  granularity,
  boundary: instant('floor_g(W): buckets before it are compared'),
  counts: z.strictObject({ equal: count('buckets'), different: count('buckets'), not_rebuildable: count('buckets'), newer_in_log: count('buckets') }),
  buckets: z.array(kappaBucket).describe('newest first, the buckets that are not equal before the equal ones'),
  omitted: count('compared buckets not listed (counted in counts)'),
});

const partitionReplay = z.strictObject({
  partition: count('partition'),
  logStart: count('the first offset the log still held when the rebuild began'),
  target: count('the partition end when the rebuild began: the replay stops there'),
  next: count('the next offset the replay would apply'),
});

export const kappaResult = z.strictObject({
  batchRun: z.strictObject({
    runId: z.string(),
    watermark: instant('W of the run compared with'),
    totalMs: count("the run's own time, from its start to its publish, ms"),
    eventsRead: count('records the run read'),
  }),
  rebuild: z.strictObject({
    replayMs: count('from the start of the replay until every partition reached its target, ms'),
    compareMs: count('reading both layers and comparing, ms'),
    records: count('records replayed'),
    keysDeleted: count("the rebuild's Redis keys deleted afterwards"),
  }),
  lost: z.strictObject({
    partitions: z.array(
      z.strictObject({ partition: count('partition'), logStart: count('first offset retained'), events: count('events of the master dataset below it') }),
    ),
    exact: z
      .boolean()
      .describe(
        'false when a segment across a log start also held invalid records, so its lines could not be matched to offsets one by one: every line that may be below the log start is then counted',
      ),
  }),
  comparisons: z.array(comparison),
});

export const kappaState = z.strictObject({
  state: z.enum(['idle', 'running', 'done', 'failed']),
  rebuildId: z.string().nullable(),
  startedAt: instant('when the rebuild started').nullable(),
  finishedAt: instant('when it ended').nullable(),
  phase: z.enum(['starting', 'replaying', 'comparing', 'cleaning']).nullable().describe('where a running rebuild is'),
  partitions: z.array(partitionReplay).describe('the replay per partition'),
  error: z.string().nullable().describe('why the rebuild failed'),
  result: kappaResult.nullable(),
});

export const kappaStarted = z.strictObject({
  started: z.literal(true),
  rebuildId: z.string(),
  progress: z.string().describe('where to follow it'),
});

/** The query of POST /api/v1/kappa/rebuilds. */
export const kappaRequest = z
  .strictObject({
    view: z.string().optional().describe('compare this view only (default: every view)'),
    granularity: granularity.optional().describe('compare this granularity only (default: every one of the view)'),
  })
  .describe('what to compare; the replay itself always rebuilds every view');

export type KappaState = z.output<typeof kappaState>;
export type KappaResult = z.output<typeof kappaResult>;
export type KappaRequest = z.output<typeof kappaRequest>;
