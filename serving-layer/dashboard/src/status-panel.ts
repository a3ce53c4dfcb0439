/**
 * The status panel: the last batch run and its counts, the watermark, the speed layer's lag and
 * counters, health, and the warnings of the current answer. Each group names its source (the
 * batch catalog, Redis, the master dataset listing), as the API does.
 */
import type { SeriesAnswer, StatusAnswer } from './api.js';
import { el, fill } from './dom.js';
import { fmtBytes, fmtCount, fmtDuration, fmtInstant } from './format.js';

type Entry = [term: string, value: string, key?: string];

function list(entries: readonly Entry[]): HTMLDListElement {
  return el('dl', {}, ...entries.flatMap(([t, v, key]) => [el('dt', {}, t), el('dd', key ? { 'data-status': key } : {}, v)]));
}

function group(title: string, source: string, entries: readonly Entry[]): HTMLElement {
  return el('section', { class: 'status-group' }, el('h3', {}, title), el('p', { class: 'source' }, `from ${source}`), list(entries));
}

/** The dedupe the consumers report (an admin may switch it at runtime), else this process's LAMBDA_SPEED_DEDUPE. */
function dedupeText(reported: { effective: boolean | null; from: string | null } | undefined, configured: boolean): string {
  if (reported === undefined || reported.effective === null) return configured ? 'on' : 'off';
  return `${reported.effective ? 'on' : 'off'}${reported.from === 'admin' ? ', switched by an admin' : ''}`;
}

/** Running, pausing (asked, not every consumer there yet) or paused (issue 20: PUT /api/v1/admin/speed/pause). */
function pausedText(parts: readonly { control?: { paused: boolean } }[], asked: boolean): string {
  const paused = parts.filter((p) => p.control?.paused === true).length;
  if (!asked) return paused === 0 ? 'running' : 'resuming';
  return paused === parts.length && parts.length > 0 ? 'paused by an admin' : 'pausing';
}

export function renderStatus(root: HTMLElement, status: StatusAnswer, series: SeriesAnswer | null): void {
  const run = status.batch.lastRun;
  const running = status.batch.running;
  const invalidBatch = run ? Object.values(run.counts.invalid).reduce((a, b) => a + b, 0) : null;
  const speedStatus = 'error' in status.speed ? null : status.speed;
  const parts = speedStatus?.partitions ?? [];
  const sum = (f: (p: (typeof parts)[number]) => number | undefined) => parts.reduce((s, p) => s + (f(p) ?? 0), 0);
  // A lag is known only against a fresh report of the partition end: never show an unknown one as 0.
  const lagText = (ps: typeof parts): string => {
    const stale = ps.filter((p) => p.stale).map((p) => `p${p.partition}`);
    if (ps.some((p) => p.lag === undefined)) return `unknown${stale.length > 0 ? ` (no report from ${stale.join(', ')})` : ''}`;
    return `${fmtCount(sum((p) => p.lag))}${ps.every((p) => p.caughtUp === true) ? ' (caught up)' : ''}`;
  };
  const batch = group('Batch layer', status.batch.source, [
    ['Last run', run ? run.runId : 'none yet', 'run-id'],
    ['Watermark W', fmtInstant(status.batch.watermark), 'watermark'],
    ['Finished', run ? fmtInstant(run.finishedAt) : 'n/a'],
    ['Events read', fmtCount(run?.counts.eventsRead)],
    ['Invalid events dropped', fmtCount(invalidBatch), 'batch-invalid'],
    ['Duplicates dropped', fmtCount(run?.counts.duplicates)],
    ['Master files read', fmtCount(run?.counts.files)],
    ['Running now', running ? `${running.runId} (${running.progress?.phase ?? 'starting'})` : 'no', 'running'],
    ['Schedule', status.batch.schedule ?? 'on demand only'],
  ]);
  const speed = group(
    'Speed layer',
    status.speed.source,
    'error' in status.speed
      ? [['Error', status.speed.error]]
      : [
          ['Complete since', fmtInstant(speedStatus?.coveredSince)],
          ['Kafka lag (records)', lagText(parts), 'speed-lag'],
          ['Event-time lag', fmtDuration(speedStatus?.eventTimeLagMs)],
          ['Events applied', fmtCount(sum((p) => p.totals?.events))],
          ['Invalid events (to DLQ)', fmtCount(sum((p) => p.totals?.invalid)), 'speed-invalid'],
          ['Late arrivals', fmtCount(sum((p) => p.totals?.late))],
          [
            'Duplicates applied',
            `${fmtCount(sum((p) => p.totals?.duplicatesApplied))} (dedupe ${dedupeText(speedStatus?.dedupe, status.config.speedDedupe)})`,
            'speed-dedupe',
          ],
          ['Consumers', pausedText(parts, speedStatus?.control?.paused ?? false), 'speed-paused'],
          ['Replayed after Redis lost writes', replayText(speedStatus?.replays ?? []), 'speed-replays'],
        ],
  );
  const m = status.master;
  const master = group(
    'Master dataset',
    m.source,
    'error' in m
      ? [['Error', m.error]]
      : [
          ['Where', m.describe],
          ['Files', fmtCount(m.files)],
          ['Size', fmtBytes(m.bytes)],
        ],
  );
  const health = el(
    'ul',
    { class: 'health' },
    ...Object.entries(status.health).map(([name, ok]) => el('li', { class: ok ? 'ok' : 'down' }, `${name}: ${ok ? 'up' : 'DOWN'}`)),
  );
  const warnings = series?.warnings ?? [];
  const warningList = el(
    'ul',
    { class: 'warnings', 'data-count': String(warnings.length) },
    ...(warnings.length ? warnings.map((w) => el('li', {}, w)) : [el('li', { class: 'none' }, 'none: every bucket in the range is complete')]),
  );
  fill(
    root,
    el('h2', { id: 'status-title' }, 'Status'),
    el('h3', {}, 'Health'),
    health,
    el('h3', {}, 'Warnings for this range'),
    warningList,
    batch,
    speed,
    master,
  );
}

/** The last replays (newest first): how many, and the newest one in a sentence. */
function replayText(replays: readonly { partition: number; records: number; detectedAt: number }[]): string {
  const last = replays[0];
  if (last === undefined) return 'never';
  return `${fmtCount(replays.length)} time(s); last: partition ${last.partition}, ${fmtCount(last.records)} records, ${fmtInstant(last.detectedAt)}`;
}
