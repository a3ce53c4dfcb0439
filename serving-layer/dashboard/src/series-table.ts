/**
 * The merged series as a table: the chart's numbers for screen readers, keyboard users and
 * anyone who wants to copy them, each bucket with its source in words.
 */
import type { SeriesAnswer, Granularity, MeasureDef } from './api.js';
import { el, fill, table } from './dom.js';
import { fmtBucket, fmtInstant, fmtValue } from './format.js';
import type { BucketPoint } from './series-data.js';

export function renderSeriesTable(
  root: HTMLElement,
  answer: SeriesAnswer,
  points: readonly BucketPoint[],
  measure: string,
  def: MeasureDef,
  g: Granularity,
): void {
  const origin = (p: BucketPoint) =>
    p.source === 'batch' && answer.batch ? `batch run ${answer.batch.runId}` : `speed layer (Redis), complete since ${fmtInstant(answer.speed.coveredSince)}`;
  const rows = points.map((p) =>
    el(
      'tr',
      { 'data-source': p.source, 'data-bucket': String(p.start), class: p.complete ? undefined : 'incomplete' },
      el('th', { scope: 'row' }, fmtBucket(p.start, g)),
      el('td', { 'data-col': 'source' }, p.source),
      el('td', { class: 'num', 'data-col': 'value', 'data-value': p.value === null ? '' : String(p.value) }, fmtValue(p.value, def)),
      el('td', {}, p.complete ? 'yes' : `no: ${p.incompleteReason ?? 'unknown'}`),
      el('td', {}, origin(p)),
    ),
  );
  const caption = `${measure} per ${g} bucket, newest last (${points.length} buckets). ${answer.provenance}`;
  fill(root, table(caption, ['Bucket (UTC)', 'Source', measure, 'Complete', 'Where the number comes from'], rows, { class: 'data-table', id: 'series-table' }));
}
