/**
 * The slice of the HTTP API the dashboard reads. The answers' types are the server's response
 * schemas' (serving-layer/http/schemas, published in /openapi.json), imported type-only: esbuild
 * erases them, so no zod and no server code reach the browser bundle (.dependency-cruiser.cjs).
 * Errors arrive as application/problem+json; ApiError keeps the status and the server's `detail`.
 */
import type { Granularity, Source, Values, Dims } from '../../http/schemas/common.js';
import type { MeasureDef, ViewDef, ViewsAnswer } from '../../http/schemas/views.js';
import type { SeriesAnswer, SeriesBucket } from '../../http/schemas/series.js';
import type { TotalsAnswer } from '../../http/schemas/totals.js';
import type { DriftAnswer, DriftBucket, MeasureDrift } from '../../http/schemas/drift.js';
import type { BatchRun, BatchStarted, RunningBatch, RunProgress, RunsAnswer } from '../../http/schemas/runs.js';
import type { StatusAnswer } from '../../http/schemas/status.js';
import type { SpeedPartition } from '../../http/schemas/speed.js';
import type { Problem } from '../../http/schemas/problem.js';

export type {
  Granularity,
  Source,
  Values,
  Dims,
  MeasureDef,
  ViewDef,
  ViewsAnswer,
  SeriesAnswer,
  SeriesBucket,
  TotalsAnswer,
  DriftAnswer,
  DriftBucket,
  MeasureDrift,
};
export type { BatchRun, BatchStarted, RunningBatch, RunProgress, RunsAnswer, StatusAnswer, SpeedPartition };

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
    const detail = (body as Partial<Problem> | null)?.detail ?? (text.slice(0, 200) || res.statusText);
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
  totals: (view: string, q: string) => call<TotalsAnswer>(`/api/v1/views/${encodeURIComponent(view)}/totals?${q}`),
  drift: (view: string, q: string) => call<DriftAnswer>(`/api/v1/views/${encodeURIComponent(view)}/drift?${q}`),
  status: () => call<StatusAnswer>('/api/v1/status'),
  runs: () => call<RunsAnswer>('/api/v1/batch/runs'),
  triggerBatch: (token: string) => call<BatchStarted>('/api/v1/batch/runs', { method: 'POST', headers: { authorization: `Bearer ${token}` } }),
};
