/** What the lab's experiments read from and send to the service, each through one public endpoint. */
import { floorTo, MINUTE_MS } from '../shared/time.js';
import { expectOk, type LabApi } from './lab-api.js';

export interface PublishedRun {
  runId: string;
  watermark: number;
}

export async function publishedRun(api: LabApi, why: string): Promise<PublishedRun> {
  const runs = expectOk('GET /api/v1/batch/runs', await api.get('/api/v1/batch/runs')) as { runs: PublishedRun[] };
  const run = runs.runs[0];
  if (run === undefined) throw new Error(`no batch run is published yet: ${why} (run one: lambda-arch lab batch-now)`);
  return run;
}

/**
 * The last whole minute before the run's W: the run holds it, and the speed layer still does (its
 * retention outlives the batch period), so the drift report compares it.
 */
export function lastBatchMinute(run: PublishedRun): number {
  return floorTo(run.watermark, 'minute') - MINUTE_MS;
}

export interface DriftBucket {
  start: number;
  countDiff: number;
  unexplained: number;
  causes: { cause: string; events?: number }[];
}

/** The drift report's row for one minute of the pageviews view; an error naming why when it is not compared. */
export async function driftOfMinute(api: LabApi, bucket: number): Promise<DriftBucket> {
  const d = expectOk('GET drift', await api.get(`/api/v1/views/pageviews/drift?granularity=minute&from=${bucket}&to=${bucket + MINUTE_MS}`)) as {
    buckets: DriftBucket[];
    notCompared: { start: number; reason: string }[];
  };
  const b = d.buckets.find((x) => x.start === bucket);
  if (b) return b;
  const why = d.notCompared.find((x) => x.start === bucket)?.reason ?? 'not in the report';
  throw new Error(`the minute ${new Date(bucket).toISOString()} cannot be compared (${why}): the speed layer does not hold it whole`);
}

/** Events of a bucket's count difference the drift report attributes to `cause` (0 when absent). */
export function causeEvents(b: DriftBucket, cause: string): number {
  return b.causes.find((c) => c.cause === cause)?.events ?? 0;
}

/** `n` pageviews of one minute with fresh ids, as NDJSON lines. */
export function pageviews(tag: string, n: number, minute: number): string[] {
  const run = `${tag}-${Date.now().toString(36)}`;
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({ id: `${run}-${i}`, ts: minute + ((i * 1_000) % MINUTE_MS), type: 'pageview', url: `/lab/${tag}`, user: `${run}-u${i}` }),
  );
}

export async function sendEvents(api: LabApi, lines: readonly string[]): Promise<void> {
  for (let i = 0; i < lines.length; i += 500) expectOk('POST /api/v1/events', await api.post('/api/v1/events', lines.slice(i, i + 500).join('\n')));
}

/**
 * The speed layer's running totals over every partition (GET /api/v1/status), and the dedupe it
 * applies: what its consumers report (an admin may switch it at runtime), else LAMBDA_SPEED_DEDUPE.
 */
export async function speedTotals(api: LabApi): Promise<{ dedupe: boolean; duplicatesSkipped: number; duplicatesApplied: number; events: number }> {
  const s = expectOk('GET /api/v1/status', await api.get('/api/v1/status')) as {
    speed: { partitions?: { totals?: { duplicatesSkipped: number; duplicatesApplied: number; events: number } }[]; dedupe?: { effective: boolean | null } };
    config: { speedDedupe: boolean };
  };
  const sum = (pick: (t: { duplicatesSkipped: number; duplicatesApplied: number; events: number }) => number) =>
    (s.speed.partitions ?? []).reduce((n, p) => n + (p.totals ? pick(p.totals) : 0), 0);
  return {
    dedupe: s.speed.dedupe?.effective ?? s.config.speedDedupe,
    duplicatesSkipped: sum((t) => t.duplicatesSkipped),
    duplicatesApplied: sum((t) => t.duplicatesApplied),
    events: sum((t) => t.events),
  };
}
