/**
 * Lab experiment "late": send N events for a minute the published batch run already covers, and
 * watch the drift report attribute exactly N events of that minute to `late_arrivals` (issue 20;
 * the causes: docs/design-decisions.md, "Drift"). The speed layer applies them within seconds; the
 * batch layer sees them only at its next run, which then absorbs them.
 */
import { floorTo, MINUTE_MS } from '../../shared/time.js';
import { expectOk, type LabApi } from '../lab-api.js';
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

interface DriftBucket {
  start: number;
  countDiff: number;
  unexplained: number;
  causes: { cause: string; events?: number }[];
}

export async function lateArrivals(api: LabApi, opts: { count: number; timeoutMs?: number; log?: (line: string) => void }): Promise<LateArrivalsResult> {
  const log = opts.log ?? (() => undefined);
  const runs = expectOk('GET /api/v1/batch/runs', await api.get('/api/v1/batch/runs')) as { runs: { runId: string; watermark: number }[] };
  const run = runs.runs[0];
  if (run === undefined) throw new Error('no batch run is published yet: late arrivals are late for a run (run one: lambda-arch lab batch-now)');
  // The last whole minute before W: the run holds it, and the speed layer still does (its
  // retention outlives the batch period), so the drift report compares it.
  const bucket = floorTo(run.watermark, 'minute') - MINUTE_MS;
  const drift = async (): Promise<DriftBucket> => {
    const d = expectOk('GET drift', await api.get(`/api/v1/views/pageviews/drift?granularity=minute&from=${bucket}&to=${bucket + MINUTE_MS}`)) as {
      buckets: DriftBucket[];
      notCompared: { start: number; reason: string }[];
    };
    const b = d.buckets.find((x) => x.start === bucket);
    if (b) return b;
    const why = d.notCompared.find((x) => x.start === bucket)?.reason ?? 'not in the report';
    throw new Error(`the minute ${new Date(bucket).toISOString()} cannot be compared (${why}): the speed layer does not hold it whole`);
  };
  const late = (b: DriftBucket) => b.causes.find((c) => c.cause === 'late_arrivals')?.events ?? 0;
  const before = await drift();
  log(`run ${run.runId}, W ${new Date(run.watermark).toISOString()}: sending ${opts.count} pageviews for the minute ${new Date(bucket).toISOString()}`);
  const tag = `lab-late-${Date.now().toString(36)}`;
  const lines = Array.from({ length: opts.count }, (_, i) => JSON.stringify({ id: `${tag}-${i}`, ts: bucket + ((i * 1_000) % MINUTE_MS), type: 'pageview', url: '/lab/late', user: `${tag}-u${i}` }));
  for (let i = 0; i < lines.length; i += 500) expectOk('POST /api/v1/events', await api.post('/api/v1/events', lines.slice(i, i + 500).join('\n')));
  log('sent; waiting for the speed layer to apply them and the drift report to count them');
  let after = before;
  await untilTrue(
    async () => {
      after = await drift();
      return late(after) >= late(before) + opts.count;
    },
    { what: `the drift report to count ${opts.count} more late arrivals`, timeoutMs: opts.timeoutMs ?? 60_000 },
  );
  return {
    runId: run.runId,
    watermark: run.watermark,
    bucket,
    sent: opts.count,
    lateBefore: late(before),
    lateAfter: late(after),
    countDiffBefore: before.countDiff,
    countDiffAfter: after.countDiff,
    unexplainedAfter: after.unexplained,
  };
}
