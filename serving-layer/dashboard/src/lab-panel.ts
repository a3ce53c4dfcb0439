/**
 * The Experiments panel (issue 20): one click per experiment of lab/ (the same code as
 * `lambda-arch lab`), its explanation shown before it runs, then its result as the service reports
 * it: late events, duplicates (with the dedupe as it is, or switched for the run), a batch run, the
 * speed dedupe switched at runtime, the speed layer paused and caught up, invalid records through
 * the dead-letter topic. `data-state` (idle, running, done, error) and the result's data attributes
 * tell a test where it is and what was attributed (maps by reason as JSON). The token is kept in
 * this page's memory only.
 */
import { httpLabApi } from '../../../lab/lab-api.js';
import { LATE_EXPLANATION, lateArrivals } from '../../../lab/experiments/late-arrivals.js';
import { DUPLICATES_EXPLANATION, duplicates } from '../../../lab/experiments/duplicates.js';
import { BATCH_NOW_EXPLANATION, batchNow } from '../../../lab/experiments/batch-now.js';
import { DUPLICATES_OTHER_PARTITION_EXPLANATION, DUPLICATES_SWITCH_EXPLANATION } from '../../../lab/experiments/duplicates.js';
import { DEDUPE_EXPLANATION, switchDedupe, type DedupeSetting } from '../../../lab/experiments/dedupe.js';
import { PAUSE_EXPLANATION, pauseResume } from '../../../lab/experiments/pause.js';
import { INVALID_EXPLANATION, invalidRecords } from '../../../lab/experiments/invalid.js';
import type { LabApi } from '../../../lab/lab-api.js';
import { byId } from './dom.js';
import { fmtInstant } from './format.js';

type Experiment = 'late' | 'duplicates' | 'batch-now' | 'dedupe' | 'pause' | 'invalid';

const EXPLANATIONS: Record<Experiment, string> = {
  late: LATE_EXPLANATION,
  duplicates: DUPLICATES_EXPLANATION,
  'batch-now': BATCH_NOW_EXPLANATION,
  dedupe: DEDUPE_EXPLANATION,
  pause: PAUSE_EXPLANATION,
  invalid: INVALID_EXPLANATION,
};

type Show = (state: 'running' | 'done' | 'error', text: string, data?: Record<string, string | number>) => void;

/** "not_json 3, bad_ts 3" (or "none"), for the result text. */
const byReason = (m: Record<string, number> | null) =>
  m === null
    ? 'not in this process'
    : Object.entries(m)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none';

/** The runtime experiments of issue 20 (admin): the dedupe switch, the pause, invalid records. */
async function runRuntime(which: 'dedupe' | 'pause' | 'invalid', api: LabApi, n: number, show: Show): Promise<void> {
  const log = (line: string) => show('running', line);
  if (which === 'dedupe') {
    const setting = byId<HTMLSelectElement>('lab-dedupe-setting').value as DedupeSetting;
    const r = await switchDedupe(api, { setting, log });
    const d = (x: typeof r.after) => (x === null ? 'not the same everywhere' : `${x.dedupe ? 'on' : 'off'} (${x.from})`);
    show(
      'done',
      `Speed dedupe ${d(r.before)} → ${d(r.after)}, obeyed by every partition's consumer within ${(r.tookMs / 1000).toFixed(1)} s.\n${r.partitions.map((p) => `Partition ${p.partition}: ${p.dedupe ? 'on' : 'off'} (${p.dedupeFrom})`).join('; ')}.`,
      {
        setting,
        dedupe: r.after === null ? 'mixed' : String(r.after.dedupe),
        dedupeFrom: r.after?.from ?? 'mixed',
        partitions: r.partitions.length,
      },
    );
  } else if (which === 'pause') {
    const r = await pauseResume(api, { count: n, log });
    show(
      'done',
      `Sent ${r.sent} events while the speed layer was paused.\nKafka lag ${r.lagAtPause} → ${r.lagWhilePaused} (+${r.lagWhilePaused - r.lagAtPause}) while paused, ${r.lagAfter} after the resume; ` +
        `applied while paused: ${r.appliedWhilePaused}; after the resume: ${r.appliedAfterResume} in ${(r.catchUpMs / 1000).toFixed(1)} s; the series counts ${r.counted} of the ${r.sent}; copies applied ${r.duplicatesApplied}.`,
      {
        sent: r.sent,
        lagAdded: r.lagWhilePaused - r.lagAtPause,
        appliedWhilePaused: r.appliedWhilePaused,
        appliedAfterResume: r.appliedAfterResume,
        counted: r.counted,
        duplicatesApplied: r.duplicatesApplied,
      },
    );
  } else {
    const batch = byId<HTMLInputElement>('lab-then-batch').checked;
    const r = await invalidRecords(api, { count: n, valid: n, batch, log });
    const sent = Object.values(r.sentInvalid).reduce((a, b) => a + b, 0);
    show(
      'done',
      `Produced ${sent} invalid records (${byReason(r.sentInvalid as Record<string, number>)}) and ${r.sentValid} valid ones, unvalidated, to the event topic.\n` +
        `Speed layer, invalid by reason: ${byReason(r.speedInvalidByReason)}.\nArchiver, invalid by reason: ${byReason(r.archiverInvalidByReason)}.\n` +
        `Dead-letter topic: +${r.deadLettersAdded ?? '?'} records. Valid ones counted: ${r.validCounted}.` +
        (r.batch ? `\nBatch run ${r.batch.runId}: invalid counters grew by ${byReason(r.batch.invalidAdded)}; events kept +${r.batch.eventsKeptAdded}.` : ''),
      {
        sentInvalid: JSON.stringify(r.sentInvalid),
        sentValid: r.sentValid,
        speedInvalid: JSON.stringify(r.speedInvalidByReason),
        archiverInvalid: JSON.stringify(r.archiverInvalidByReason),
        deadLettersAdded: r.deadLettersAdded ?? '',
        validCounted: r.validCounted,
        ...(r.batch ? { batchInvalidAdded: JSON.stringify(r.batch.invalidAdded), eventsKeptAdded: r.batch.eventsKeptAdded } : {}),
      },
    );
  }
}

export function setupLabPanel(onChanged: () => void): void {
  const count = byId<HTMLInputElement>('lab-count');
  const token = byId<HTMLInputElement>('lab-token');
  const dedupeForRun = byId<HTMLSelectElement>('lab-dedupe');
  const copiesOn = byId<HTMLSelectElement>('lab-copies');
  const explanation = byId('lab-explanation');
  const result = byId('lab-result');
  const buttons = [...document.querySelectorAll<HTMLButtonElement>('#lab button[data-experiment]')];

  const show: Show = (state, text, data = {}) => {
    result.dataset.state = state;
    for (const k of Object.keys(result.dataset)) if (k !== 'state') delete result.dataset[k];
    for (const [k, v] of Object.entries(data)) result.dataset[k] = String(v);
    result.textContent = text;
    for (const b of buttons) b.disabled = state === 'running';
  };

  const run = async (which: Experiment) => {
    const switched = which === 'duplicates' && dedupeForRun.value !== '';
    const copies = copiesOn.value === 'other-partition' ? 'other-partition' : 'same-partition';
    const otherPartition = which === 'duplicates' && copies === 'other-partition';
    explanation.textContent = [
      EXPLANATIONS[which],
      ...(otherPartition ? [DUPLICATES_OTHER_PARTITION_EXPLANATION] : []),
      ...(switched ? [DUPLICATES_SWITCH_EXPLANATION] : []),
    ].join('\n');
    const api = httpLabApi(location.origin, token.value || undefined);
    const n = Math.max(1, Math.min(1000, Number(count.value) || 25));
    show('running', `Running "${which}"…`);
    try {
      if (which === 'late') {
        const r = await lateArrivals(api, { count: n, log: (line) => show('running', line) });
        show(
          'done',
          `Sent ${r.sent} late events for ${fmtInstant(r.bucket)} (run ${r.runId}).\nDrift report: late_arrivals ${r.lateBefore} → ${r.lateAfter} (+${r.lateAfter - r.lateBefore}); speed − batch ${r.countDiffBefore} → ${r.countDiffAfter}; unexplained ${r.unexplainedAfter}.`,
          {
            sent: r.sent,
            lateAdded: r.lateAfter - r.lateBefore,
            unexplained: r.unexplainedAfter,
          },
        );
      } else if (which === 'duplicates') {
        const r = await duplicates(api, {
          count: n,
          copies,
          ...(switched ? { dedupe: dedupeForRun.value === 'on' } : {}),
          log: (line) => show('running', line),
        });
        const back = r.switched
          ? ` (switched ${r.switched.to ? 'on' : 'off'} for this run, then back to ${r.switched.restoredTo === null ? 'LAMBDA_SPEED_DEDUPE' : r.switched.restoredTo ? 'on' : 'off'})`
          : '';
        show(
          'done',
          `Sent ${r.sent} events and the same ${r.sent} records again${r.copies === 'other-partition' ? ' on another partition' : ''} for ${fmtInstant(r.bucket)}; speed dedupe ${r.dedupe ? 'on' : 'off'}${back}.\nSpeed layer: ${r.skipped} copies skipped, ${r.applied} applied. Drift report: late_arrivals +${r.lateAdded}, duplicates +${r.duplicatesAdded}, unexplained ${r.unexplainedAfter}.`,
          {
            sent: r.sent,
            copies: r.copies,
            dedupe: String(r.dedupe),
            skipped: r.skipped,
            applied: r.applied,
            lateAdded: r.lateAdded,
            duplicatesAdded: r.duplicatesAdded,
            unexplained: r.unexplainedAfter,
            ...(r.switched ? { switchedTo: String(r.switched.to) } : {}),
          },
        );
      } else if (which === 'dedupe' || which === 'pause' || which === 'invalid') {
        await runRuntime(which, api, n, show);
      } else {
        const r = await batchNow(api, { now: Date.now(), log: (line) => show('running', line) });
        const w = (x: number | null) => (x === null ? '(none)' : fmtInstant(x));
        show(
          'done',
          `Batch run ${r.after.runId ?? ''} published in ${(r.tookMs / 1000).toFixed(1)} s: W ${w(r.before.watermark)} → ${w(r.after.watermark)}.\nMinute buckets of the last 2 hours from the batch run: ${r.before.batchBuckets} → ${r.after.batchBuckets} (${r.flipped} flipped from speed).`,
          {
            flipped: r.flipped,
            batchBuckets: r.after.batchBuckets,
          },
        );
      }
      onChanged();
    } catch (err) {
      show('error', (err as Error).message);
    }
  };

  for (const b of buttons) b.addEventListener('click', () => void run(b.dataset.experiment as Experiment));
}
