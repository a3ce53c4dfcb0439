/**
 * The slice of the HTTP API the dashboard reads, typed by hand from serving-layer/routes and
 * serving-layer/query (the browser bundle must not import server code). Errors arrive as
 * application/problem+json; ApiError keeps the status and the server's `detail`.
 */
export type Granularity = 'minute' | 'hour' | 'day';
export type Source = 'batch' | 'speed';
export type Values = Record<string, number | null>;
export type Dims = Record<string, string | null>;

export interface MeasureDef {
  type: 'count' | 'sum' | 'min' | 'max' | 'distinct';
  field?: string;
  decimals?: number;
}

export interface ViewDef {
  name: string;
  description: string;
  dimensions: string[];
  measures: Record<string, MeasureDef>;
  granularities: Granularity[];
}

export interface ViewsAnswer {
  source: string;
  views: ViewDef[];
}

export interface SeriesBucket {
  start: number;
  end: number;
  source: Source;
  complete: boolean;
  incompleteReason?: string;
  groups: { dims: Dims; values: Values }[];
}

export interface SeriesAnswer {
  view: string;
  granularity: Granularity;
  from: number;
  to: number;
  batch: { runId: string; watermark: number; boundary: number | null; finishedAt: number } | null;
  speed: { coveredSince: number | null };
  provenance: string;
  incomplete: { bucketStart: number; source: Source; reason: string }[];
  unavailable: string[];
  warnings: string[];
  buckets: SeriesBucket[];
}

export interface MeasureDrift {
  batch: number | null;
  speed: number | null;
  diff: number | null;
  abs: number | null;
  rel: number | null;
}

export interface DriftBucket {
  start: number;
  end: number;
  late: number;
  duplicates: number;
  countDiff: number;
  /** the part of countDiff no cause explains */
  unexplained?: number;
  causes: { cause: string; events?: number; exact?: boolean; detail: string }[];
  rows: { dims: Dims; measures: Record<string, MeasureDrift> }[];
}

export interface DriftAnswer {
  batch: { runId: string; watermark: number; boundary: number | null } | null;
  speed: { coveredSince: number | null };
  provenance: string;
  bucketsCompared: number;
  note?: string;
  buckets: DriftBucket[];
  batchToBatch: {
    note?: string;
    /** why the two runs could not be compared (the previous one was pruned mid-answer) */
    unavailable?: string;
    previousRunId?: string;
    latestRunId?: string;
    watermarks?: { previous: number; latest: number };
    /** B_g of each run at the answer's granularity */
    boundaries?: { previous: number; latest: number };
    /** rows changed in buckets both runs served */
    rowsChanged?: number;
    /** late events absorbed into buckets the previous run already served; null without a count measure */
    lateEventsAbsorbed?: number | null;
    /** buckets of the range served by the latest run and not by the previous one, because W moved */
    newlyCovered?: { from: number; to: number; buckets: number; bucketsWithEvents: number; events: number | null };
  };
}

export interface BatchRun {
  runId: string;
  watermark: number;
  arrivalComplete: number | null;
  startedAt: number;
  finishedAt: number;
  counts: { files: number; eventsRead: number; invalid: Record<string, number>; duplicates: number; groups: number; eventsKept?: number };
}

export interface RunProgress {
  phase: string;
  filesDone: number;
  filesTotal: number;
  eventsRead: number;
}

export interface RunningBatch {
  runId: string;
  startedAt: number;
  progress: RunProgress | null;
}

export interface SpeedPartition {
  partition: number;
  offset: number;
  /** absent when unknown (the consumer's report of the partition end is missing or stale) */
  lag?: number;
  stale?: boolean;
  caughtUp?: boolean | null;
  reportAgeMs?: number | null;
  totals?: { events: number; duplicatesSkipped: number; duplicatesApplied: number; late: number; invalid: number; unchecked?: number; lostOffsets?: number };
}

export interface StatusAnswer {
  health: Record<string, boolean>;
  batch: { source: string; lastRun: BatchRun | null; watermark: number | null; keptRuns: { runId: string }[]; running: RunningBatch | null; schedule: string | null };
  speed: { source: string; coveredSince?: number | null; partitions?: SpeedPartition[]; eventTimeLagMs?: number | null; error?: string };
  master: { source: string; describe?: string; files?: number; bytes?: number; error?: string };
  config: { topic: string; allowedLatenessMs: number; speedDedupe: boolean };
}

export interface RunsAnswer {
  runs: BatchRun[];
  running: RunningBatch | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, { ...init, headers: { accept: 'application/json', ...init?.headers } });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const detail = (body as { detail?: string } | null)?.detail ?? (text.slice(0, 200) || res.statusText);
    throw new ApiError(res.status, detail);
  }
  return body as T;
}

/** Builds a query string, skipping undefined values and repeating arrays. */
export function query(params: Record<string, string | number | string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) q.append(k, String(one));
  }
  return q.toString();
}

export const api = {
  views: () => call<ViewsAnswer>('/api/v1/views'),
  series: (view: string, q: string) => call<SeriesAnswer>(`/api/v1/views/${encodeURIComponent(view)}/series?${q}`),
  drift: (view: string, q: string) => call<DriftAnswer>(`/api/v1/views/${encodeURIComponent(view)}/drift?${q}`),
  status: () => call<StatusAnswer>('/api/v1/status'),
  runs: () => call<RunsAnswer>('/api/v1/batch/runs'),
  triggerBatch: (token: string) => call<{ runId: string | null }>('/api/v1/batch/runs', { method: 'POST', headers: { authorization: `Bearer ${token}` } }),
};
