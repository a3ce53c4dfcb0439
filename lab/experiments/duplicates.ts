/**
 * Lab experiment "duplicates": send N new events for a minute the published run covers, then the
 * same N records again (the same ids, so the same partition: the ingest keys records by id). What
 * follows depends on the speed layer's dedupe (LAMBDA_SPEED_DEDUPE, shown by /api/v1/status):
 * on, it skips the N copies (its duplicatesSkipped total grows by N) and the drift report sees only
 * the N originals as late_arrivals; off, it applies them and the report attributes N more events
 * to `duplicates`. The batch layer keeps one copy per id either way (issue 20; docs/design-decisions.md, "Drift").
 * `copies: 'other-partition'` puts the originals on partition 0 and the copies on partition 1
 * (admin: the raw ingest, which can name a partition): the speed layer's dedupe claims ids across
 * partitions, so the outcome is the same, though another consumer (maybe another process) meets
 * the copy.
 */
import { expectAdminOk, type LabApi } from '../lab-api.js';
import { causeEvents, driftOfMinute, lastBatchMinute, pageviews, publishedRun, sendEvents, speedTotals, type DriftBucket } from '../service-reads.js';
import { changeControl, readSpeed, untilObeyed } from '../speed-control.js';
import { untilTrue } from '../wait.js';

export const DUPLICATES_EXPLANATION = [
  'Kafka delivers at least once, and producers retry: the same event (the same id) can arrive twice.',
  'The batch layer keeps one copy per id, always. The speed layer remembers the ids it applied for a while (dedupe on, the default)',
  'and skips a copy; with dedupe off it applies the copy and its count is too high, until the next batch run corrects the bucket.',
  'This sends N new events for a minute the published run covers (late arrivals, so the report counts them), then the same N again.',
].join('\n');

export const DUPLICATES_OTHER_PARTITION_EXPLANATION = [
  "Here the copies go to another partition than the originals (originals on partition 0, copies on partition 1, through the admin's raw",
  'ingest: a producer that keys by something else than the id, or a replay into another topic, does this). Another consumer, maybe in',
  'another process, meets each copy: the speed layer still skips it, because it claims ids across partitions (in Redis), not per partition.',
].join('\n');

/** Where the copies go: beside their originals (keyed by id, as the ingest does), or on another partition. */
export type CopiesPlacement = 'same-partition' | 'other-partition';

export const DUPLICATES_SWITCH_EXPLANATION = [
  'First the speed dedupe is switched as asked, at runtime, in every speed instance (admin: PUT /api/v1/admin/speed/dedupe),',
  "and the experiment waits until each partition's consumer reports it applies it; after the run it is switched back.",
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
  /** where the copies went */
  copies: CopiesPlacement;
  /** set when the run switched the dedupe (opts.dedupe): to what, and the admin switch restored after it (null: LAMBDA_SPEED_DEDUPE) */
  switched?: { to: boolean; restoredTo: boolean | null };
}

/**
 * `opts.dedupe`: switch the speed dedupe to this for the run (admin), then back to what was set.
 * Without it, the run takes the dedupe as it is.
 */
export interface DuplicatesOptions {
  count: number;
  dedupe?: boolean;
  /** default 'same-partition'; 'other-partition' needs the admin token and two partitions or more */
  copies?: CopiesPlacement;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export async function duplicates(api: LabApi, opts: DuplicatesOptions): Promise<DuplicatesResult> {
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
    await untilObeyed(api, back, () => true, { what: "every partition's consumer to switch back" });
  }
}

/** Sends the lines to one partition, unvalidated (admin raw ingest). */
async function sendToPartition(api: LabApi, lines: readonly string[], partition: number): Promise<void> {
  for (let i = 0; i < lines.length; i += 500) {
    expectAdminOk(
      'POST /api/v1/admin/events/raw',
      await api.post(`/api/v1/admin/events/raw?partition=${partition}`, lines.slice(i, i + 500).join('\n'), { admin: true }),
    );
  }
}

async function duplicatesAsSet(api: LabApi, opts: DuplicatesOptions & { log: (line: string) => void }): Promise<DuplicatesResult> {
  const log = opts.log;
  const run = await publishedRun(api, 'the copies are counted against a run');
  const bucket = lastBatchMinute(run);
  const [before, totalsBefore] = [await driftOfMinute(api, bucket), await speedTotals(api)];
  const lines = pageviews('dup', opts.count, bucket);
  const copies = opts.copies ?? 'same-partition';
  const where = copies === 'same-partition' ? '' : ' (originals on partition 0, copies on partition 1)';
  log(
    `dedupe is ${totalsBefore.dedupe ? 'on' : 'off'}: sending ${opts.count} pageviews for ${new Date(bucket).toISOString()}, then the same ${opts.count} records again${where}`,
  );
  if (copies === 'same-partition') {
    await sendEvents(api, lines);
    await sendEvents(api, lines);
  } else {
    await sendToPartition(api, lines, 0);
    await sendToPartition(api, lines, 1);
  }
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
    copies,
    dedupe: totals.dedupe,
    skipped: totals.duplicatesSkipped - totalsBefore.duplicatesSkipped,
    applied: totals.duplicatesApplied - totalsBefore.duplicatesApplied,
    lateAdded: causeEvents(after, 'late_arrivals') - causeEvents(before, 'late_arrivals'),
    duplicatesAdded: causeEvents(after, 'duplicates') - causeEvents(before, 'duplicates'),
    unexplainedAfter: after.unexplained,
  };
}
