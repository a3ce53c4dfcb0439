/**
 * Batch against speed for the buckets both layers hold: two bars per bucket, batch solid on the
 * left, speed hatched on the right, on the same time axis as the merged chart above it, so a
 * difference lines up with the bucket it belongs to. The tooltip gives both values, the
 * difference and the counted causes.
 */
import uPlot from 'uplot';
import type { DriftAnswer, Granularity, MeasureDef } from './api.js';
import { barChartOptions, bars, followWidth, placeTooltip, type XRange } from './chart-base.js';
import { COLORS, hatch } from './palette.js';
import { el, fill } from './dom.js';
import { fmtBucket, fmtDiff, fmtValue } from './format.js';
import type { DriftPoint } from './series-data.js';

export interface DriftView {
  answer: DriftAnswer;
  points: DriftPoint[];
  range: XRange;
  measure: string;
  def: MeasureDef;
  granularity: Granularity;
}

export class DriftChart {
  private plot: uPlot | null = null;
  private shape = '';
  private current: DriftView | null = null;
  private readonly canvas: HTMLElement;
  private readonly tip = el('div', { class: 'chart-tooltip', role: 'tooltip', hidden: '' });

  constructor(private readonly root: HTMLElement) {
    this.canvas = root.querySelector<HTMLElement>('.chart-canvas') ?? root;
    followWidth(this.canvas, () => this.plot);
  }

  render(view: DriftView): void {
    this.current = view;
    const data: uPlot.AlignedData = [view.points.map((p) => (p.start + p.end) / 2), view.points.map((p) => p.batch), view.points.map((p) => p.speed)];
    const shape = `${view.measure}|${view.granularity}`;
    if (!this.plot || shape !== this.shape) {
      this.plot?.destroy();
      this.plot = new uPlot(this.options(view.measure), data, this.canvas);
      this.plot.over.append(this.tip);
      this.shape = shape;
    } else {
      this.plot.setData(data);
    }
    Object.assign(this.root.dataset, {
      state: 'ready',
      bucketsCompared: String(view.answer.bucketsCompared),
      runId: view.answer.batch?.runId ?? '',
      from: String(view.range.from),
      to: String(view.range.to),
    });
    const none = this.root.querySelector('.chart-note');
    if (none) none.textContent = view.answer.bucketsCompared === 0 ? (view.answer.note ?? 'no bucket is held by both layers') : '';
  }

  private options(measure: string): uPlot.Options {
    return barChartOptions(
      this.canvas.clientWidth || 800,
      () => this.current?.range ?? { from: 0, to: 1 },
      measure,
      [
        { label: 'batch', stroke: COLORS.batch, fill: COLORS.batch, width: 1, paths: bars(-1, 0.4), points: { show: false } },
        { label: 'speed', stroke: COLORS.speed, fill: (u) => hatch(u.ctx, COLORS.speed), width: 1, paths: bars(1, 0.4), points: { show: false } },
      ],
      { setCursor: [(u) => this.showTip(u, u.cursor.idx ?? null)] },
    );
  }

  private showTip(u: uPlot, idx: number | null): void {
    const view = this.current;
    const p = idx === null ? undefined : view?.points[idx];
    if (!view || !p) {
      this.tip.hidden = true;
      return;
    }
    const diff = p.batch === null || p.speed === null ? null : p.speed - p.batch;
    fill(
      this.tip,
      el('strong', {}, `${fmtBucket(p.start, view.granularity)} UTC`),
      el('br'),
      `batch (run ${view.answer.batch?.runId ?? 'none'}): ${fmtValue(p.batch, view.def)}`,
      el('br'),
      `speed (Redis): ${fmtValue(p.speed, view.def)}`,
      el('br'),
      `speed − batch: ${fmtDiff(diff, view.def)}`,
      el('br'),
      `late events: ${p.late}, duplicates applied: ${p.duplicates}`,
    );
    this.tip.hidden = false;
    placeTooltip(u, this.tip, u.valToPos(p.start, 'x'));
  }
}
