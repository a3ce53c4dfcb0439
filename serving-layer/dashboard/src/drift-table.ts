/**
 * The drift table: for each bucket both layers hold and each dimension group, the chosen measure
 * as batch computed it and as the speed layer holds it, their difference, and the causes the
 * service counted for that bucket. Rows that agree exactly are hidden unless asked for, so the
 * table shows what needs explaining first.
 */
import type { DriftAnswer, DriftBucket, Granularity, MeasureDef } from './api.js';
import { el, fill, table } from './dom.js';
import { fmtBucket, fmtCount, fmtDiff, fmtDim, fmtInstant, fmtRel, fmtValue } from './format.js';
import { batchToBatchText } from './batch-to-batch.js';

/** Enough to read, few enough for the DOM to stay quick; the caption says when rows were cut. */
export const MAX_DRIFT_ROWS = 500;

export interface DriftTableView {
  answer: DriftAnswer;
  measure: string;
  def: MeasureDef;
  dimensions: readonly string[];
  granularity: Granularity;
  showAgreeing: boolean;
}

const CAUSE_NAMES: Record<string, string> = {
  not_archived_at_snapshot: "late, not yet archived at the run's snapshot",
  arrived_during_batch_run: 'late, arrived during the batch run',
  late_arrivals: 'late, arrived after the run',
  duplicates: 'duplicates (speed dedupe off)',
  unchecked_copies: 'at most: copies past the dedupe window',
  speed_behind_run: 'at most: speed layer behind the run',
  hll_estimate: 'HyperLogLog estimate',
  unexplained: 'UNEXPLAINED',
};

function causesText(bucket: DriftBucket, def: MeasureDef): string {
  const causes = bucket.causes.filter((c) => c.cause !== 'hll_estimate' || def.fold.sketched);
  if (causes.length === 0) return 'none counted';
  return causes.map((c) => `${CAUSE_NAMES[c.cause] ?? c.cause}${c.events === undefined ? '' : `: ${c.events}`}`).join('; ');
}

function numCell(col: string, raw: number | null | undefined, text: string): HTMLTableCellElement {
  return el('td', { class: 'num', 'data-col': col, 'data-value': raw === null || raw === undefined ? '' : String(raw) }, text);
}

export function renderDriftTable(root: HTMLElement, view: DriftTableView): { shown: number; differing: number } {
  const { answer, measure, def } = view;
  const rows: HTMLTableRowElement[] = [];
  let differing = 0;
  let agreeing = 0;
  for (const b of answer.buckets) {
    for (const r of b.rows) {
      const m = r.measures[measure];
      if (!m) continue;
      const agrees = m.abs === 0;
      if (agrees) agreeing++;
      else differing++;
      if ((agrees && !view.showAgreeing) || rows.length >= MAX_DRIFT_ROWS) continue;
      rows.push(
        el(
          'tr',
          { 'data-bucket': String(b.start), 'data-dims': JSON.stringify(r.dims), class: agrees ? 'agrees' : 'differs' },
          el('th', { scope: 'row' }, fmtBucket(b.start, view.granularity)),
          ...view.dimensions.map((d) => el('td', { 'data-col': `dim:${d}` }, fmtDim(r.dims[d]))),
          numCell('batch', m.batch, fmtValue(m.batch, def)),
          numCell('speed', m.speed, fmtValue(m.speed, def)),
          numCell('diff', m.diff, fmtDiff(m.diff, def)),
          numCell('rel', m.rel, fmtRel(m.rel)),
          el('td', { 'data-col': 'causes' }, causesText(b, def)),
        ),
      );
    }
  }
  const run = answer.batch ? `batch run ${answer.batch.runId} (watermark ${fmtInstant(answer.batch.watermark)})` : 'no batch run';
  const hidden = view.showAgreeing ? '' : `; ${fmtCount(agreeing)} agreeing row(s) hidden`;
  const cut = differing + (view.showAgreeing ? agreeing : 0) > MAX_DRIFT_ROWS ? `; only the first ${MAX_DRIFT_ROWS} rows are shown` : '';
  const caption = `${measure}: ${fmtCount(differing)} row(s) differ in ${fmtCount(answer.bucketsCompared)} bucket(s) held by both layers, ${run} against the speed layer (Redis)${hidden}${cut}.`;
  const head = ['Bucket (UTC)', ...view.dimensions, 'Batch', 'Speed', 'Speed − batch', 'Relative', 'Causes counted for the bucket'];
  const t = table(caption, head, rows, { class: 'data-table', id: 'drift-table' });
  fill(root, t, rows.length === 0 ? el('p', { class: 'empty' }, answer.note ?? 'The layers agree on every row in this range.') : null, batchToBatch(answer));
  root.dataset.rows = String(rows.length);
  root.dataset.differing = String(differing);
  return { shown: rows.length, differing };
}

function batchToBatch(answer: DriftAnswer): HTMLElement {
  const b = answer.batchToBatch;
  const compared = 'newlyCovered' in b ? b : null;
  const data = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(n));
  return el(
    'p',
    {
      id: 'batch-to-batch',
      'data-events-absorbed': data(compared?.lateEventsAbsorbed),
      'data-buckets-newly-covered': data(compared?.newlyCovered.buckets),
      'data-events-newly-covered': data(compared?.newlyCovered.events),
    },
    batchToBatchText(b),
  );
}
