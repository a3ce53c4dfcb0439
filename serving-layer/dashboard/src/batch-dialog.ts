/**
 * "Run batch now": a dialog asks for the admin token (kept in this page's memory only, never
 * stored), starts a run, follows its progress and, once it is published, says how far the
 * watermark moved. The dialog's `data-state` (idle, starting, running, done, error) tells a
 * test, or a stylesheet, where the run is.
 */
import { api, ApiError, type BatchRun, type RunningBatch } from './api.js';
import { byId } from './dom.js';
import { fmtCount, fmtDuration, fmtInstant } from './format.js';

const POLL_MS = 500;

type RunState = 'idle' | 'starting' | 'running' | 'done' | 'error';

export function setupBatchDialog(onPublished: () => void): void {
  const dialog = byId<HTMLDialogElement>('batch-dialog');
  const form = byId<HTMLFormElement>('batch-form');
  const token = byId<HTMLInputElement>('admin-token');
  const start = byId<HTMLButtonElement>('batch-start');
  const errorBox = byId('batch-error');
  const bar = byId<HTMLProgressElement>('batch-progress-bar');
  const text = byId('batch-run-text');
  const inline = byId('batch-inline-status');
  let remembered = '';

  const setState = (state: RunState, message: string) => {
    dialog.dataset.state = state;
    text.textContent = message;
    inline.textContent = state === 'idle' ? '' : message;
    errorBox.hidden = state !== 'error';
    if (state === 'error') errorBox.textContent = message;
    start.disabled = state === 'starting' || state === 'running';
    bar.hidden = state !== 'running';
  };

  const showProgress = (running: RunningBatch) => {
    const p = running.progress;
    if (p && p.filesTotal > 0) {
      bar.max = p.filesTotal;
      bar.value = p.filesDone;
    } else {
      bar.removeAttribute('value'); // indeterminate until the run knows its files
    }
    const files = p ? `${fmtCount(p.filesDone)}/${fmtCount(p.filesTotal)} files, ${fmtCount(p.eventsRead)} events read` : 'waiting for progress';
    setState('running', `Run ${running.runId}: ${p?.phase ?? 'starting'}, ${files}, ${fmtDuration(Date.now() - running.startedAt)} so far.`);
  };

  const follow = async (runId: string, before: BatchRun | null) => {
    for (;;) {
      const { runs, running } = await api.runs();
      if (running && running.runId === runId) {
        showProgress(running);
        await new Promise((r) => setTimeout(r, POLL_MS));
        continue;
      }
      const latest = runs[0];
      if (latest?.runId !== runId) {
        setState('error', `Run ${runId} ended without being published (see the server log); the previous run is still served.`);
        return;
      }
      const moved = !before
        ? `is now ${fmtInstant(latest.watermark)}`
        : latest.watermark === before.watermark
          ? `stayed at ${fmtInstant(latest.watermark)} (it moves in whole minutes, as the master dataset is known complete)`
          : `moved from ${fmtInstant(before.watermark)} to ${fmtInstant(latest.watermark)} (+${fmtDuration(latest.watermark - before.watermark)})`;
      setState('done', `Run ${latest.runId} published: ${fmtCount(latest.counts.eventsRead)} events read. The watermark ${moved}.`);
      dialog.dataset.runId = latest.runId;
      onPublished();
      return;
    }
  };

  byId('run-batch').addEventListener('click', () => {
    token.value = remembered;
    if (dialog.dataset.state !== 'running' && dialog.dataset.state !== 'starting') setState('idle', '');
    dialog.showModal();
    token.focus();
  });
  byId('batch-close').addEventListener('click', () => dialog.close());

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      setState('starting', 'Starting a batch run…');
      try {
        const before = (await api.runs()).runs[0] ?? null;
        let runId: string;
        try {
          const started = await api.triggerBatch(token.value.trim());
          remembered = token.value.trim();
          const now = await api.runs();
          runId = started.runId ?? now.running?.runId ?? now.runs[0]?.runId ?? '';
        } catch (err) {
          // 409: a run (scheduled, or from another window) holds the lease: follow that one.
          const running = err instanceof ApiError && err.status === 409 ? (await api.runs()).running : null;
          if (!running) throw err;
          runId = running.runId;
        }
        setState('running', `Run ${runId} started.`);
        await follow(runId, before);
      } catch (err) {
        const status = err instanceof ApiError ? err.status : 0;
        const why = status === 401 || status === 403 ? 'The token was refused' : 'The run could not be started';
        setState('error', `${why}: ${err instanceof Error ? err.message : String(err)}`);
      }
    })();
  });
}
