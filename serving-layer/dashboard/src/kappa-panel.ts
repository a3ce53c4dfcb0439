/**
 * "Lambda vs Kappa" in the Experiments panel (issue 20; docs/design-decisions.md, "Lambda vs
 * Kappa"): one click replays the event log through the speed layer's code into a fresh prefix
 * (the lab's kappaRebuild, the code `lambda-arch kappa rebuild` runs), with its progress, then
 * shows Kappa's answer beside the batch run's for the view and granularity picked above, bucket by
 * bucket, and the two timings. `data-state` and the data attributes tell a test what was shown.
 */
import { httpLabApi } from '../../../lab/lab-api.js';
import { KAPPA_EXPLANATION, kappaRebuild, type KappaOutcome } from '../../../lab/experiments/kappa-rebuild.js';
import type { Granularity } from './api.js';
import { byId, el, fill, table } from './dom.js';
import { fmtBucket, fmtCount, fmtDuration, fmtInstant } from './format.js';

const STATUS_TEXT: Record<string, string> = {
  equal: 'equal',
  not_rebuildable: 'not rebuildable (records deleted from the log)',
  newer_in_log: 'newer in the log (arrived after the batch run)',
  different: 'different',
};

export function setupKappaPanel(onChanged: () => void): void {
  const button = byId<HTMLButtonElement>('kappa-rebuild');
  const token = byId<HTMLInputElement>('lab-token');
  const progress = byId<HTMLProgressElement>('kappa-progress');
  const explanation = byId('kappa-explanation');
  const result = byId('kappa-result');
  const box = byId('kappa-table-box');

  const show = (state: 'running' | 'done' | 'error', text: string, data: Record<string, string | number> = {}) => {
    result.dataset.state = state;
    for (const k of Object.keys(result.dataset)) if (k !== 'state') delete result.dataset[k];
    for (const [k, v] of Object.entries(data)) result.dataset[k] = String(v);
    result.textContent = text;
    button.disabled = state === 'running';
    progress.hidden = state !== 'running';
  };

  button.addEventListener('click', () => {
    void (async () => {
      const view = byId<HTMLSelectElement>('pick-view').value;
      const granularity = byId<HTMLSelectElement>('pick-granularity').value as Granularity;
      explanation.textContent = KAPPA_EXPLANATION;
      fill(box);
      progress.value = 0;
      show('running', 'Starting the Kappa rebuild…');
      try {
        const r = await kappaRebuild(httpLabApi(location.origin, token.value || undefined), {
          view,
          granularity,
          onProgress: (done, total, phase) => {
            progress.value = total === 0 ? 1 : done / total;
            show('running', `${phase}: ${fmtCount(done)} of ${fmtCount(total)} records replayed`);
          },
        });
        render(r, granularity);
        onChanged();
      } catch (err) {
        show('error', (err as Error).message);
      }
    })();
  });

  function render(r: KappaOutcome, g: Granularity): void {
    const c = r.comparisons[0];
    if (c === undefined) {
      show('error', 'the rebuild compared nothing');
      return;
    }
    const lostEvents = r.lost.partitions.reduce((n, p) => n + p.events, 0);
    const lost = r.lost.partitions.map(
      (p) => `partition ${p.partition} starts at offset ${p.logStart} (${fmtCount(p.events)} archived events gone from the log)`,
    );
    show(
      'done',
      `Kappa replayed ${fmtCount(r.rebuild.records)} records in ${fmtDuration(r.rebuild.replayMs)}; the batch run ${r.batchRun.runId} took ${fmtDuration(r.batchRun.totalMs)} over ${fmtCount(r.batchRun.eventsRead)} records.\n` +
        `${c.view} per ${g}, buckets before W (${fmtInstant(r.batchRun.watermark)}): ${c.counts.equal} equal, ${c.counts.not_rebuildable} not rebuildable, ` +
        `${c.counts.newer_in_log} newer in the log, ${c.counts.different} different.\n` +
        (lost.length > 0 ? `Kappa depends on the log's retention: ${lost.join('; ')}.` : 'The log still holds every record: Kappa recomputes every bucket.'),
      {
        equal: c.counts.equal,
        notRebuildable: c.counts.not_rebuildable,
        newerInLog: c.counts.newer_in_log,
        different: c.counts.different,
        records: r.rebuild.records,
        replayMs: r.rebuild.replayMs,
        batchMs: r.batchRun.totalMs,
        lostEvents,
      },
    );
    const measures = Object.keys(c.buckets[0]?.batch ?? {});
    const rows = c.buckets.map((b) =>
      el(
        'tr',
        { 'data-bucket': String(b.start), 'data-status': b.status },
        el('td', {}, fmtBucket(b.start, g)),
        el('td', {}, STATUS_TEXT[b.status] ?? b.status),
        ...measures.flatMap((m) => [el('td', { class: 'num' }, String(b.batch[m] ?? 'n/a')), el('td', { class: 'num' }, String(b.kappa[m] ?? 'n/a'))]),
        el('td', { class: 'num' }, String(b.lostEvents)),
      ),
    );
    const head = ['bucket', 'Kappa vs batch', ...measures.flatMap((m) => [`${m} (batch)`, `${m} (Kappa)`]), 'events lost from the log'];
    const omitted = c.omitted > 0 ? ` (${c.omitted} more equal buckets not listed)` : '';
    fill(box, table(`Kappa's answer beside the batch run's, ${c.view} per ${g}, not equal first${omitted}`, head, rows, { id: 'kappa-table' }));
  }
}
