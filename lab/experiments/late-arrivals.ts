/**
 * Lab experiment "late": send N events for a minute the published batch run already covers, and
 * watch the drift report attribute exactly N events of that minute to `late_arrivals` (issue 20;
 * the causes: docs/design-decisions.md, "Drift"). The speed layer applies them within seconds; the
 * batch layer sees them only at its next run, which then absorbs them.
 */
import type { LabApi } from '../lab-api.js';
import { causeEvents, driftOfMinute, lastBatchMinute, pageviews, publishedRun, sendEvents, type DriftBucket } from '../service-reads.js';
import { untilTrue } from '../wait.js';

export const LATE_EXPLANATION = [
  'The published batch run computed every bucket before its watermark W from the master dataset as it was at its snapshot.',
  'Events whose event time falls in such a bucket but which arrive now are late for that run: the speed layer applies them within seconds,',
  'the batch layer only at its next run. Until then the speed count of the bucket is higher by exactly the number sent, and the drift',
  'report names the cause, late_arrivals, with that exact count. The next batch run absorbs them (try `lambda-arch lab batch-now`).',
].join('\n');

export interface LateArrivalsResult {
  runId: string;
  watermark: number;
  bucket: number;
  sent: number;
  /** late_arrivals of the bucket in the drift report, before and after */
  lateBefore: number;
  lateAfter: number;
  countDiffBefore: number;
  countDiffAfter: number;
  unexplainedAfter: number;
}

export async function lateArrivals(api: LabApi, opts: { count: number; timeoutMs?: number; log?: (line: string) => void }): Promise<LateArrivalsResult> {
  const log = opts.log ?? (() => undefined);
  const run = await publishedRun(api, 'late arrivals are late for a run');
  const bucket = lastBatchMinute(run);
  const before = await driftOfMinute(api, bucket);
  log(`run ${run.runId}, W ${new Date(run.watermark).toISOString()}: sending ${opts.count} pageviews for the minute ${new Date(bucket).toISOString()}`);
  await sendEvents(api, pageviews('late', opts.count, bucket));
  log('sent; waiting for the speed layer to apply them and the drift report to count them');
  let after: DriftBucket = before;
  await untilTrue(
    async () => {
      after = await driftOfMinute(api, bucket);
      return causeEvents(after, 'late_arrivals') >= causeEvents(before, 'late_arrivals') + opts.count;
    },
    { what: `the drift report to count ${opts.count} more late arrivals`, timeoutMs: opts.timeoutMs ?? 60_000 },
  );
  return {
    runId: run.runId,
    watermark: run.watermark,
    bucket,
    sent: opts.count,
    lateBefore: causeEvents(before, 'late_arrivals'),
    lateAfter: causeEvents(after, 'late_arrivals'),
    countDiffBefore: before.countDiff,
    countDiffAfter: after.countDiff,
    unexplainedAfter: after.unexplained,
  };
}
