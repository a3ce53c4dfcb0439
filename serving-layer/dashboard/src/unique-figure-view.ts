/** Draws the "unique over the range" figure (unique-figure.ts) above the merged series; hidden for other measures. */
import type { MeasureDef } from './api.js';
import { el, fill } from './dom.js';
import { fmtValue } from './format.js';
import type { UniqueFigure } from './unique-figure.js';

export function renderUniqueFigure(root: HTMLElement, figure: UniqueFigure | null, measure: string, def: MeasureDef, rangeText: string): void {
  if (figure === null) {
    root.hidden = true;
    fill(root);
    delete root.dataset.value;
    delete root.dataset.exactness;
    return;
  }
  root.hidden = false;
  Object.assign(root.dataset, {
    value: figure.value === null ? '' : String(figure.value),
    exactness: figure.exactness,
    standardError: figure.standardError === null ? '' : String(figure.standardError),
  });
  const label = figure.exactness === 'approximate' ? 'approximate' : figure.exactness === 'exact' ? 'exact' : 'unavailable';
  fill(
    root,
    el('span', { class: 'unique-label' }, `Unique ${measure} over the range (${rangeText}): `),
    el('strong', { class: 'unique-value' }, `${figure.exactness === 'approximate' ? '≈ ' : ''}${fmtValue(figure.value, def)}`),
    ' ',
    el('span', { class: `unique-badge unique-${figure.exactness}` }, label),
    el('br'),
    el('span', { class: 'unique-how' }, figure.how),
  );
}
