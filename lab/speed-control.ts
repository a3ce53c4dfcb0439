/**
 * What the lab's runtime experiments (issue 20: dedupe switched, the speed layer paused, invalid
 * records) read from and send to the service: the speed layer as GET /api/v1/status shows it (per
 * partition its offset, lag, totals and the runtime control its consumer obeys), the admin's
 * switches (PUT /api/v1/admin/speed/...), and how many events of one URL a minute counts.
 */
import { MINUTE_MS } from '../shared/time.js';
import { expectAdminOk, expectOk, type LabApi } from './lab-api.js';
import { untilTrue } from './wait.js';

export interface ControlReport {
  dedupe: boolean;
  dedupeFrom: 'LAMBDA_SPEED_DEDUPE' | 'admin';
  paused: boolean;
  controlVersion: number;
}

export interface SpeedPartitionView {
  partition: number;
  offset: number;
  /** undefined when unknown (no fresh report of the partition end) */
  lag?: number;
  stale?: boolean;
  caughtUp?: boolean | null;
  control?: ControlReport;
  totals?: { events: number; duplicatesSkipped: number; duplicatesApplied: number; invalid: number; invalidByReason?: Record<string, number> };
}

export interface SpeedView {
  /** the control as stored; null when the service does not report one (an older version) */
  control: { dedupe: boolean | null; paused: boolean; version: number } | null;
  partitions: SpeedPartitionView[];
  /** records in the dead-letter topic; null when the service cannot tell */
  deadLetters: number | null;
}

export async function readSpeed(api: LabApi): Promise<SpeedView> {
  const s = expectOk('GET /api/v1/status', await api.get('/api/v1/status')) as {
    speed: { error?: string; partitions?: SpeedPartitionView[]; control?: SpeedView['control'] };
    deadLetters?: { records?: number };
  };
  if (s.speed.error !== undefined) throw new Error(`the status cannot read the speed layer: ${s.speed.error}`);
  return { control: s.speed.control ?? null, partitions: s.speed.partitions ?? [], deadLetters: s.deadLetters?.records ?? null };
}

/** A sum over the partitions (a missing figure counts 0). */
export function sumOf(view: SpeedView, pick: (p: SpeedPartitionView) => number | undefined): number {
  return view.partitions.reduce((n, p) => n + (pick(p) ?? 0), 0);
}

/** Invalid records the speed layer counted, by reason, over every partition. */
export function invalidByReason(view: SpeedView): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of view.partitions) for (const [r, n] of Object.entries(p.totals?.invalidByReason ?? {})) out[r] = (out[r] ?? 0) + n;
  return out;
}

/** The speed dedupe every partition's consumer reports it applies, or null when they disagree or none reports. */
export function dedupeInEffect(view: SpeedView): { dedupe: boolean; from: ControlReport['dedupeFrom'] } | null {
  const reports = view.partitions.filter((p) => p.stale !== true).map((p) => p.control);
  const first = reports[0];
  if (first === undefined || reports.some((r) => r === undefined || r.dedupe !== first.dedupe || r.dedupeFrom !== first.dedupeFrom)) return null;
  return { dedupe: first.dedupe, from: first.dedupeFrom };
}

export type ControlChange = { dedupe: boolean | null } | { paused: boolean };

/** Sets a switch (admin) and returns the new control version the consumers are to report. */
export async function changeControl(api: LabApi, change: ControlChange): Promise<number> {
  const [path, body] =
    'dedupe' in change ? ['/api/v1/admin/speed/dedupe', { enabled: change.dedupe }] : ['/api/v1/admin/speed/pause', { paused: change.paused }];
  const r = expectAdminOk(`PUT ${path}`, await api.put(path, body)) as { control: { version: number } };
  return r.control.version;
}

/**
 * Waits until the consumer of every partition reports, fresh, that it obeys control `version` (or
 * a later one) and `holds` of what it applies; returns the status then. A partition whose consumer
 * is gone (stale) or never reports fails it, named.
 */
export async function untilObeyed(
  api: LabApi,
  version: number,
  holds: (c: ControlReport, p: SpeedPartitionView) => boolean,
  opts: { what: string; timeoutMs?: number },
): Promise<SpeedView> {
  let view: SpeedView = { control: null, partitions: [], deadLetters: null };
  let lagging = 'no partition reported yet';
  try {
    await untilTrue(
      async () => {
        view = await readSpeed(api);
        const behind = view.partitions.filter((p) => p.stale === true || p.control === undefined || p.control.controlVersion < version || !holds(p.control, p));
        lagging = behind.length > 0 ? `partitions ${behind.map((p) => p.partition).join(', ')} not yet` : lagging;
        return view.partitions.length > 0 && behind.length === 0;
      },
      { what: opts.what, timeoutMs: opts.timeoutMs ?? 30_000, everyMs: 250 },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message} (${lagging}; a consumer that stopped reports stale)`);
  }
  return view;
}

/** How many `views` the pageviews view counts for one URL in one minute (from whichever layer serves it). */
export async function viewsOfUrl(api: LabApi, url: string, minute: number): Promise<{ views: number; source: string | null }> {
  const q = `granularity=minute&from=${minute}&to=${minute + MINUTE_MS}&groupBy=&measures=views&filter=${encodeURIComponent(`url:${url}`)}`;
  const s = expectOk('GET series', await api.get(`/api/v1/views/pageviews/series?${q}`)) as {
    buckets: { source: string; groups: { values: { views?: number | null } }[] }[];
  };
  const b = s.buckets[0];
  return { views: b?.groups.reduce((n, g) => n + (g.values.views ?? 0), 0) ?? 0, source: b?.source ?? null };
}
