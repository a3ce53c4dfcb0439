/** Status, batch trigger and batch progress. */
import { defineRoute, type RouteSpec } from '../http/route.js';
import { LambdaError } from '../../shared/errors.js';
import type { ServingDeps } from '../deps.js';
import { statusAnswer } from '../http/schemas/status.js';
import { batchStarted, runsAnswer } from '../http/schemas/runs.js';
import type { SpeedPartition } from '../http/schemas/speed.js';
import type { DedupeSource } from '../../shared/speed/control.js';

/** The dedupe the consumers report they apply (issue 20): one answer when every fresh report agrees. */
function dedupeInEffect(partitions: readonly SpeedPartition[]): { effective: boolean | null; from: DedupeSource | null } {
  const reports = partitions.filter((p) => p.stale !== true && p.control !== undefined).map((p) => p.control!);
  const first = reports[0];
  if (first === undefined || reports.some((r) => r.dedupe !== first.dedupe || r.dedupeFrom !== first.dedupeFrom)) return { effective: null, from: null };
  return { effective: first.dedupe, from: first.dedupeFrom };
}

export function adminRoutes(deps: ServingDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/status',
      tag: 'status',
      summary: "Each layer's health, the last batch run and its counts, the watermark, speed lag, master dataset size",
      responses: { 200: { description: 'status; every number names its source', schema: statusAnswer } },
      handler: async () => {
        const [health, speed, progress, master, deadLetters] = await Promise.all([
          Promise.all(deps.health.map(async (h) => [h.name, await h.check()] as const)),
          deps.speed.status().catch((err: Error) => ({ error: err.message })),
          deps.batchControl?.progress().catch(() => null) ?? null,
          deps.master().catch((err: Error) => ({ error: err.message })),
          deps.deadLetters?.().catch((err: Error) => ({ error: err.message })),
        ]);
        const runs = deps.batch.runs();
        const last = runs[0] ?? null;
        return {
          health: Object.fromEntries(health),
          batch: {
            source: 'the batch catalog (SQLite files under the batch dir)',
            lastRun: last,
            watermark: last?.watermark ?? null,
            keptRuns: runs.map((r) => ({ runId: r.runId, watermark: r.watermark, finishedAt: r.finishedAt })),
            running: progress,
            schedule: deps.config.batch.cron,
          },
          speed: { source: 'Redis (written by the speed layer)', ...speed, ...('partitions' in speed ? { dedupe: dedupeInEffect(speed.partitions) } : {}) },
          ...(deadLetters ? { deadLetters: { source: "Kafka: the dead-letter topic's offsets", ...deadLetters } } : {}),
          master: { source: 'a listing of the master dataset', ...master },
          config: { topic: deps.config.kafka.topic, allowedLatenessMs: deps.config.allowedLatenessMs, speedDedupe: deps.config.speed.dedupe },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/batch/runs',
      tag: 'batch',
      summary: 'The kept batch runs (newest first) and the run in progress',
      responses: { 200: { description: 'runs and progress', schema: runsAnswer } },
      handler: async () => ({ runs: deps.batch.runs(), running: (await deps.batchControl?.progress()) ?? null }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/batch/runs',
      tag: 'batch',
      admin: true,
      summary: 'Start a batch run now (admin: Authorization: Bearer $LAMBDA_ADMIN_TOKEN)',
      responses: {
        202: { description: 'the run started; follow it at GET /api/v1/batch/runs', schema: batchStarted },
        401: { description: 'no bearer token' },
        403: { description: 'wrong token, or admin disabled (LAMBDA_ADMIN_TOKEN unset)' },
        409: { description: 'a run is already in progress (BATCH_RUNNING)' },
      },
      handler: async ({ res }) => {
        if (!deps.batchControl) throw new LambdaError('UNAVAILABLE', 'this process does not run the batch layer');
        const started = await deps.batchControl.trigger();
        res.status(202).set('Location', '/api/v1/batch/runs');
        return { started: true as const, ...started, progress: '/api/v1/batch/runs' };
      },
    }),
  ];
}
