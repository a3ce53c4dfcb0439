/**
 * Lab experiment "kappa": the Kappa architecture's answer beside the Lambda one (issue 20;
 * docs/design-decisions.md, "Lambda vs Kappa"). The service replays the event log from its
 * earliest retained offset through the speed layer's own code into a fresh key prefix and
 * compares every bucket with the published batch run. Needs the admin token (it writes a copy of
 * the speed views into Redis, deleted afterwards).
 */
import type { KappaBucketStatus } from '../../shared/kappa/compare.js';
import { expectOk, type LabApi } from '../lab-api.js';
import { untilTrue } from '../wait.js';

export const KAPPA_EXPLANATION = [
  'Lambda keeps two pipelines: a batch layer that recomputes from the master dataset and a speed layer for the time since.',
  'Kappa keeps one streaming pipeline: to recompute, rewind the event log and replay it through the same streaming code.',
  'This replays the topic from its earliest retained offset through the speed layer into a fresh Redis prefix, then compares',
  'every bucket before the batch watermark with the batch run: equal where the log still holds everything; where retention',
  "already deleted records, the buckets are named not rebuildable: Kappa depends on the event log's retention.",
].join('\n');

/** What the lab reads of GET /api/v1/kappa/rebuilds (serving-layer/http/schemas/kappa.ts). */
export interface KappaOutcome {
  rebuildId: string;
  batchRun: { runId: string; watermark: number; totalMs: number; eventsRead: number };
  rebuild: { replayMs: number; compareMs: number; records: number; keysDeleted: number };
  lost: { partitions: { partition: number; logStart: number; events: number }[]; exact: boolean };
  comparisons: {
    view: string;
    granularity: string;
    boundary: number;
    counts: Record<KappaBucketStatus, number>;
    buckets: {
      start: number;
      status: KappaBucketStatus;
      batch: Record<string, number | null>;
      kappa: Record<string, number | null>;
      lostEvents: number;
      newerEvents: number;
    }[];
    omitted: number;
  }[];
}

interface KappaStateBody {
  state: 'idle' | 'running' | 'done' | 'failed';
  rebuildId: string | null;
  phase: string | null;
  partitions: { partition: number; logStart: number; target: number; next: number }[];
  error: string | null;
  result: Omit<KappaOutcome, 'rebuildId'> | null;
}

/** Sums the statuses over every view and granularity compared. */
export function kappaTotals(r: KappaOutcome): Record<KappaBucketStatus, number> {
  const t: Record<KappaBucketStatus, number> = { equal: 0, different: 0, not_rebuildable: 0, newer_in_log: 0 };
  for (const c of r.comparisons) for (const k of Object.keys(t) as KappaBucketStatus[]) t[k] += c.counts[k];
  return t;
}

export async function kappaRebuild(
  api: LabApi,
  opts: {
    view?: string;
    granularity?: string;
    timeoutMs?: number;
    log?: (line: string) => void;
    onProgress?: (done: number, total: number, phase: string) => void;
  },
): Promise<KappaOutcome> {
  const log = opts.log ?? (() => undefined);
  const q = new URLSearchParams();
  if (opts.view) q.set('view', opts.view);
  if (opts.granularity) q.set('granularity', opts.granularity);
  const r = await api.post(`/api/v1/kappa/rebuilds${q.toString() === '' ? '' : `?${q.toString()}`}`, '', { admin: true, contentType: 'application/json' });
  if (r.status === 401 || r.status === 403) throw new Error('a Kappa rebuild needs the admin token (--admin-token or LAMBDA_ADMIN_TOKEN)');
  const { rebuildId } = expectOk('POST /api/v1/kappa/rebuilds', r) as { rebuildId: string };
  log(`rebuild ${rebuildId} started: replaying the log through the speed layer`);
  let last: KappaStateBody | null = null;
  await untilTrue(
    async () => {
      last = expectOk('GET /api/v1/kappa/rebuilds', await api.get('/api/v1/kappa/rebuilds')) as unknown as KappaStateBody;
      const done = last.partitions.reduce((n, p) => n + (Math.min(p.next, p.target) - p.logStart), 0);
      const total = last.partitions.reduce((n, p) => n + (p.target - p.logStart), 0);
      opts.onProgress?.(done, total, last.phase ?? last.state);
      return last.rebuildId !== rebuildId || last.state === 'done' || last.state === 'failed';
    },
    { what: 'the Kappa rebuild to finish', timeoutMs: opts.timeoutMs ?? 600_000, everyMs: 300 },
  );
  const end = last as KappaStateBody | null;
  if (end === null || end.rebuildId !== rebuildId) throw new Error(`another rebuild replaced ${rebuildId} before it was read`);
  if (end.state === 'failed' || end.result === null) throw new Error(`the Kappa rebuild failed: ${end.error ?? 'no result'}`);
  return { rebuildId, ...end.result };
}
