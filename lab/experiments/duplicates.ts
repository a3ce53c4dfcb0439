/**
 * Lab experiment "duplicates": send N new events for a minute the published run covers, then the
 * same N records again (the same ids, so the same partition: the ingest keys records by id). What
 * follows depends on the speed layer's dedupe (LAMBDA_SPEED_DEDUPE, shown by /api/v1/status):
 * on, it skips the N copies (its duplicatesSkipped total grows by N) and the drift report sees only
 * the N originals as late_arrivals; off, it applies them and the report attributes N more events
 * to `duplicates`. The batch layer keeps one copy per id either way (issue 20; docs/design-decisions.md, "Drift").
 */
import type { LabApi } from '../lab-api.js';
import { causeEvents, driftOfMinute, lastBatchMinute, pageviews, publishedRun, sendEvents, speedTotals, type DriftBucket } from '../service-reads.js';
import { changeControl, readSpeed, untilObeyed } from '../speed-control.js';
import { untilTrue } from '../wait.js';

export const DUPLICATES_EXPLANATION = [
  'Kafka delivers at least once, and producers retry: the same event (the same id) can arrive twice.',
  'The batch layer keeps one copy per id, always. The speed layer remembers the ids it applied for a while (dedupe on, the default)',
  'and skips a copy; with dedupe off it applies the copy and its count is too high, until the next batch run corrects the bucket.',
  'This sends N new events for a minute the published run covers (late arrivals, so the report counts them), then the same N again.',
].join('\n');

export const DUPLICATES_SWITCH_EXPLANATION = [
  'First the speed dedupe is switched as asked, at runtime, in every speed instance (admin: PUT /api/v1/admin/speed/dedupe),',
  'and the experiment waits until each partition\'s consumer reports it applies it; after the run it is switched back.',
].join('\n');

export interface DuplicatesResult {
  runId: string;
  bucket: number;
  sent: number;
  /** LAMBDA_SPEED_DEDUPE as the service reports it */
  dedupe: boolean;
  /** growth of the speed layer's totals (GET /api/v1/status) */
  skipped: number;
  applied: number;
  /** growth of the bucket's attributed causes in the drift report */
  lateAdded: number;
  duplicatesAdded: number;
  unexplainedAfter: number;
  /** set when the run switched the dedupe (opts.dedupe): to what, and the admin switch restored after it (null: LAMBDA_SPEED_DEDUPE) */
  switched?: { to: boolean; restoredTo: boolean | null };
}

/**
 * `opts.dedupe`: switch the speed dedupe to this for the run (admin), then back to what was set.
 * Without it, the run takes the dedupe as it is.
 */
export async function duplicates(api: LabApi, opts: { count: number; dedupe?: boolean; timeoutMs?: number; log?: (line: string) => void }): Promise<DuplicatesResult> {
  const log = opts.log ?? (() => undefined);
  if (opts.dedupe === undefined) return duplicatesAsSet(api, { ...opts, log });
  const previous = (await readSpeed(api)).control?.dedupe ?? null;
  log(`switching the speed dedupe ${opts.dedupe ? 'on' : 'off'} in every speed instance`);
  const version = await changeControl(api, { dedupe: opts.dedupe });
  try {
    await untilObeyed(api, version, (c) => c.dedupe === opts.dedupe, { what: `every partition's consumer to apply dedupe ${opts.dedupe ? 'on' : 'off'}` });
    const result = await duplicatesAsSet(api, { ...opts, log });
    return { ...result, switched: { to: opts.dedupe, restoredTo: previous } };
  } finally {
    // Also after a failure: the lab leaves the service as it found it.
    log(`switching the speed dedupe back (${previous === null ? 'LAMBDA_SPEED_DEDUPE' : previous ? 'on' : 'off'})`);
    const back = await changeControl(api, { dedupe: previous });
    await untilObeyed(api, back, () => true, { what: 'every partition\'s consumer to switch back' });
  }
}

async function duplicatesAsSet(api: LabApi, opts: { count: number; timeoutMs?: number; log: (line: string) => void }): Promise<DuplicatesResult> {
  const log = opts.log;
  const run = await publishedRun(api, 'the copies are counted against a run');
  const bucket = lastBatchMinute(run);
  const [before, totalsBefore] = [await driftOfMinute(api, bucket), await speedTotals(api)];
  const lines = pageviews('dup', opts.count, bucket);
  log(`dedupe is ${totalsBefore.dedupe ? 'on' : 'off'}: sending ${opts.count} pageviews for ${new Date(bucket).toISOString()}, then the same ${opts.count} records again`);
  await sendEvents(api, lines);
  await sendEvents(api, lines);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let totals = totalsBefore;
  await untilTrue(
    async () => {
      totals = await speedTotals(api);
      return totals.duplicatesSkipped + totals.duplicatesApplied >= totalsBefore.duplicatesSkipped + totalsBefore.duplicatesApplied + opts.count;
    },
    { what: `the speed layer to see the ${opts.count} copies`, timeoutMs },
  );
  const expectedLate = causeEvents(before, 'late_arrivals') + opts.count;
  let after: DriftBucket = before;
  await untilTrue(
    async () => {
      after = await driftOfMinute(api, bucket);
      return causeEvents(after, 'late_arrivals') >= expectedLate;
    },
    { what: 'the drift report to count the originals', timeoutMs },
  );
  return {
    runId: run.runId,
    bucket,
    sent: opts.count,
    dedupe: totals.dedupe,
    skipped: totals.duplicatesSkipped - totalsBefore.duplicatesSkipped,
    applied: totals.duplicatesApplied - totalsBefore.duplicatesApplied,
    lateAdded: causeEvents(after, 'late_arrivals') - causeEvents(before, 'late_arrivals'),
    duplicatesAdded: causeEvents(after, 'duplicates') - causeEvents(before, 'duplicates'),
    unexplainedAfter: after.unexplained,
  };
}
