/**
 * Lab experiment "batch-now": run a batch now and watch W jump and the buckets between the old and
 * the new boundary flip from the speed layer to the batch run (issue 20; the merge rule:
 * docs/design-decisions.md §7). Needs the admin token (it starts a run).
 */
import { HOUR_MS } from '../../shared/time.js';
import { expectOk, type LabApi } from '../lab-api.js';
import { untilTrue } from '../wait.js';

export const BATCH_NOW_EXPLANATION = [
  'The batch layer recomputes every view from scratch from the master dataset, then publishes the run with its watermark W.',
  'The serving layer answers each bucket before the boundary floor(W) from the published run and every later one from the speed layer.',
  'Running a batch now moves W forward: the buckets between the old and the new boundary flip from speed to batch, and any drift',
  'the speed layer had in them (late arrivals, duplicates, HyperLogLog error) is corrected by the batch layer.',
].join('\n');

export interface Sources {
  runId: string | null;
  watermark: number | null;
  batchBuckets: number;
  speedBuckets: number;
}

export interface BatchNowResult {
  /** over the last 2 hours of minute buckets */
  before: Sources;
  after: Sources;
  flipped: number;
  /** how long the run took from the request to its publish, ms */
  tookMs: number;
}

async function sources(api: LabApi, from: number, to: number): Promise<Sources> {
  const s = expectOk('GET series', await api.get(`/api/v1/views/pageviews/series?granularity=minute&from=${from}&to=${to}&groupBy=&measures=views`)) as {
    batch: { runId: string; watermark: number } | null;
    buckets: { source: string }[];
  };
  return {
    runId: s.batch?.runId ?? null,
    watermark: s.batch?.watermark ?? null,
    batchBuckets: s.buckets.filter((b) => b.source === 'batch').length,
    speedBuckets: s.buckets.filter((b) => b.source === 'speed').length,
  };
}

export async function batchNow(api: LabApi, opts: { now: number; timeoutMs?: number; log?: (line: string) => void }): Promise<BatchNowResult> {
  const log = opts.log ?? (() => undefined);
  const from = opts.now - 2 * HOUR_MS;
  const before = await sources(api, from, opts.now);
  log(
    `before: run ${before.runId ?? '(none)'}, ${before.batchBuckets} batch and ${before.speedBuckets} speed minute buckets in the last 2 hours; starting a batch run`,
  );
  const started = Date.now();
  const r = await api.post('/api/v1/batch/runs', '', { admin: true, contentType: 'application/json' });
  if (r.status === 401 || r.status === 403) throw new Error('starting a batch run needs the admin token (--admin-token or LAMBDA_ADMIN_TOKEN)');
  expectOk('POST /api/v1/batch/runs', r);
  let publishedId: string | null = null;
  await untilTrue(
    async () => {
      const runs = expectOk('GET /api/v1/batch/runs', await api.get('/api/v1/batch/runs')) as { running: unknown; runs: { runId: string }[] };
      publishedId = runs.running === null ? (runs.runs[0]?.runId ?? null) : null;
      return publishedId !== null && publishedId !== before.runId;
    },
    { what: 'the batch run to be published', timeoutMs: opts.timeoutMs ?? 120_000, everyMs: 500 },
  );
  const tookMs = Date.now() - started;
  const after = await sources(api, from, opts.now);
  return { before, after, flipped: after.batchBuckets - before.batchBuckets, tookMs };
}
