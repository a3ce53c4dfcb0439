/**
 * The Experiments panel (issue 20): one click per experiment of lab/ (the same code as
 * `lambda-arch lab`), its explanation shown before it runs, then its result as the service reports
 * it. `data-state` (idle, running, done, error) and the result's data attributes tell a test where
 * it is and what was attributed. The token is kept in this page's memory only.
 */
import { httpLabApi } from '../../../lab/lab-api.js';
import { LATE_EXPLANATION, lateArrivals } from '../../../lab/experiments/late-arrivals.js';
import { DUPLICATES_EXPLANATION, duplicates } from '../../../lab/experiments/duplicates.js';
import { BATCH_NOW_EXPLANATION, batchNow } from '../../../lab/experiments/batch-now.js';
import { byId } from './dom.js';
import { fmtInstant } from './format.js';

type Experiment = 'late' | 'duplicates' | 'batch-now';

const EXPLANATIONS: Record<Experiment, string> = { late: LATE_EXPLANATION, duplicates: DUPLICATES_EXPLANATION, 'batch-now': BATCH_NOW_EXPLANATION };

export function setupLabPanel(onChanged: () => void): void {
  const count = byId<HTMLInputElement>('lab-count');
  const token = byId<HTMLInputElement>('lab-token');
  const explanation = byId('lab-explanation');
  const result = byId('lab-result');
  const buttons = [...document.querySelectorAll<HTMLButtonElement>('#lab button[data-experiment]')];

  const show = (state: 'running' | 'done' | 'error', text: string, data: Record<string, string | number> = {}) => {
    result.dataset.state = state;
    for (const k of Object.keys(result.dataset)) if (k !== 'state') delete result.dataset[k];
    for (const [k, v] of Object.entries(data)) result.dataset[k] = String(v);
    result.textContent = text;
    for (const b of buttons) b.disabled = state === 'running';
  };

  const run = async (which: Experiment) => {
    explanation.textContent = EXPLANATIONS[which];
    const api = httpLabApi(location.origin, token.value || undefined);
    const n = Math.max(1, Math.min(1000, Number(count.value) || 25));
    show('running', `Running "${which}"…`);
    try {
      if (which === 'late') {
        const r = await lateArrivals(api, { count: n, log: (line) => show('running', line) });
        show('done', `Sent ${r.sent} late events for ${fmtInstant(r.bucket)} (run ${r.runId}).\nDrift report: late_arrivals ${r.lateBefore} → ${r.lateAfter} (+${r.lateAfter - r.lateBefore}); speed − batch ${r.countDiffBefore} → ${r.countDiffAfter}; unexplained ${r.unexplainedAfter}.`, {
          sent: r.sent,
          lateAdded: r.lateAfter - r.lateBefore,
          unexplained: r.unexplainedAfter,
        });
      } else if (which === 'duplicates') {
        const r = await duplicates(api, { count: n, log: (line) => show('running', line) });
        show(
          'done',
          `Sent ${r.sent} events and the same ${r.sent} records again for ${fmtInstant(r.bucket)}; speed dedupe ${r.dedupe ? 'on' : 'off'}.\nSpeed layer: ${r.skipped} copies skipped, ${r.applied} applied. Drift report: late_arrivals +${r.lateAdded}, duplicates +${r.duplicatesAdded}, unexplained ${r.unexplainedAfter}.`,
          { sent: r.sent, skipped: r.skipped, applied: r.applied, lateAdded: r.lateAdded, duplicatesAdded: r.duplicatesAdded, unexplained: r.unexplainedAfter },
        );
      } else {
        const r = await batchNow(api, { now: Date.now(), log: (line) => show('running', line) });
        const w = (x: number | null) => (x === null ? '(none)' : fmtInstant(x));
        show('done', `Batch run ${r.after.runId ?? ''} published in ${(r.tookMs / 1000).toFixed(1)} s: W ${w(r.before.watermark)} → ${w(r.after.watermark)}.\nMinute buckets of the last 2 hours from the batch run: ${r.before.batchBuckets} → ${r.after.batchBuckets} (${r.flipped} flipped from speed).`, {
          flipped: r.flipped,
          batchBuckets: r.after.batchBuckets,
        });
      }
      onChanged();
    } catch (err) {
      show('error', (err as Error).message);
    }
  };

  for (const b of buttons) b.addEventListener('click', () => void run(b.dataset.experiment as Experiment));
}
