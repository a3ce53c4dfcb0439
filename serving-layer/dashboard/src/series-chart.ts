/**
 * The merged series: one bar per bucket, batch solid and speed hatched, the batch watermark as a
 * vertical line, incomplete buckets shaded grey. The container carries the counts and the
 * watermark as data attributes (what a test or a curious user can read), the tooltip names each
 * bucket's source, and the arrow keys step through the buckets for keyboard users.
 */
import uPlot from 'uplot';
import type { Granularity, MeasureDef, SeriesAnswer } from './api.js';
import { barChartOptions, bars, followWidth, placeTooltip, type XRange } from './chart-base.js';
import { COLORS, hatch } from './palette.js';
import { el, fill } from './dom.js';
import { fmtBucket, fmtInstant, fmtValue } from './format.js';
import type { BucketPoint } from './series-data.js';

export interface SeriesView {
  answer: SeriesAnswer;
  points: BucketPoint[];
  measure: string;
  def: MeasureDef;
  granularity: Granularity;
}

export class SeriesChart {
  private plot: uPlot | null = null;
  private shape = '';
  private current: SeriesView | null = null;
  private range: XRange = { from: 0, to: 1 };
  private readonly canvas: HTMLElement;
  private readonly tip = el('div', { class: 'chart-tooltip', role: 'tooltip', hidden: '' });
  private readonly line = el('div', { class: 'watermark-line', hidden: '' }, el('span', { class: 'watermark-label' }));
  private readonly spoken: HTMLElement;
  private focusIdx = -1;

  constructor(private readonly root: HTMLElement) {
    this.canvas = root.querySelector<HTMLElement>('.chart-canvas') ?? root;
    this.spoken = root.querySelector<HTMLElement>('.chart-readout') ?? el('p');
    followWidth(this.canvas, () => this.plot);
    root.addEventListener('keydown', (e) => this.onKey(e));
    root.addEventListener('blur', () => this.showTip(null));
  }

  render(view: SeriesView): void {
    this.current = view;
    this.range = { from: view.answer.from, to: view.answer.to };
    const len = view.points[0] ? view.points[0].end - view.points[0].start : 0;
    const data: uPlot.AlignedData = [
      view.points.map((p) => p.start + len / 2),
      view.points.map((p) => (p.source === 'batch' ? p.value : null)),
      view.points.map((p) => (p.source === 'speed' ? p.value : null)),
    ];
    const shape = `${view.answer.view}|${view.measure}|${view.granularity}`;
    if (!this.plot || shape !== this.shape) {
      this.plot?.destroy();
      this.plot = new uPlot(this.options(view.measure), data, this.canvas);
      this.plot.over.append(this.line, this.tip);
      this.shape = shape;
    } else {
      this.plot.setData(data);
    }
    this.describe(view);
  }

  private options(measure: string): uPlot.Options {
    const barsPath = bars(0, 0.85);
    return barChartOptions(
      this.canvas.clientWidth || 800,
      () => this.range,
      measure,
      [
        { label: 'batch', stroke: COLORS.batch, fill: COLORS.batch, width: 1, paths: barsPath, points: { show: false } },
        { label: 'speed', stroke: COLORS.speed, fill: (u) => hatch(u.ctx, COLORS.speed), width: 1, paths: barsPath, points: { show: false } },
      ],
      {
        drawClear: [(u) => this.shadeIncomplete(u)],
        draw: [(u) => this.placeWatermark(u)],
        setCursor: [(u) => this.showTip(u.cursor.idx ?? null)],
      },
    );
  }

  /** The data attributes and the caption: the chart's numbers in words and in the DOM. */
  private describe(view: SeriesView): void {
    const { answer, points } = view;
    const count = (pred: (p: BucketPoint) => boolean) => String(points.filter(pred).length);
    Object.assign(this.root.dataset, {
      state: 'ready',
      bucketCount: String(points.length),
      batchBuckets: count((p) => p.source === 'batch'),
      speedBuckets: count((p) => p.source === 'speed'),
      incompleteBuckets: count((p) => !p.complete),
      from: String(answer.from),
      to: String(answer.to),
      runId: answer.batch?.runId ?? '',
      watermark: answer.batch ? String(answer.batch.watermark) : '',
      boundary: answer.batch?.boundary === null || answer.batch === null ? '' : String(answer.batch.boundary),
      total: String(points.reduce((s, p) => s + (p.value ?? 0), 0)),
    });
    const legend = this.root.querySelector('.chart-legend');
    if (legend) {
      fill(
        legend,
        el(
          'li',
          {},
          el('span', { class: 'swatch swatch-batch', 'aria-hidden': 'true' }),
          answer.batch ? `batch (solid): run ${answer.batch.runId}, SQLite` : 'batch: no run published yet',
        ),
        el(
          'li',
          {},
          el('span', { class: 'swatch swatch-speed', 'aria-hidden': 'true' }),
          `speed (hatched): Redis, complete since ${fmtInstant(answer.speed.coveredSince)}`,
        ),
        el(
          'li',
          {},
          el('span', { class: 'swatch swatch-watermark', 'aria-hidden': 'true' }),
          answer.batch ? `batch watermark W = ${fmtInstant(answer.batch.watermark)}` : 'no watermark yet',
        ),
        el('li', {}, el('span', { class: 'swatch swatch-incomplete', 'aria-hidden': 'true' }), 'incomplete bucket (grey)'),
      );
    }
    this.root.setAttribute(
      'aria-label',
      `Merged series of ${view.measure}: ${points.length} buckets, ${this.root.dataset.batchBuckets} from batch, ${this.root.dataset.speedBuckets} from speed. Arrow keys read the buckets one by one.`,
    );
  }

  private shadeIncomplete(u: uPlot): void {
    const view = this.current;
    if (!view) return;
    const { ctx } = u;
    ctx.save();
    ctx.fillStyle = hatch(ctx, COLORS.incomplete, 0.1);
    for (const p of view.points) {
      if (p.complete) continue;
      const x0 = u.valToPos(p.start, 'x', true);
      const x1 = u.valToPos(p.end, 'x', true);
      ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
    }
    ctx.restore();
  }

  /** The watermark is an element over the plot (not canvas ink), so it can be found and read. */
  private placeWatermark(u: uPlot): void {
    const batch = this.current?.answer.batch;
    const inRange = !!batch && batch.watermark >= this.range.from && batch.watermark <= this.range.to;
    this.line.hidden = !inRange;
    this.line.dataset.watermark = batch ? String(batch.watermark) : '';
    this.root.dataset.watermarkInRange = String(inRange);
    if (!batch || !inRange) return;
    const x = u.valToPos(batch.watermark, 'x');
    this.line.style.left = `${x}px`;
    // The label sits on the side with room, so it never spills out of the plot.
    this.line.classList.toggle('label-left', x > u.over.clientWidth / 2);
    const label = this.line.querySelector('.watermark-label');
    if (label) label.textContent = `watermark ${fmtInstant(batch.watermark).slice(11)}`;
  }

  private showTip(idx: number | null): void {
    const view = this.current;
    const p = idx === null ? undefined : view?.points[idx];
    if (!view || !p || !this.plot) {
      this.tip.hidden = true;
      return;
    }
    const { answer } = view;
    const source =
      p.source === 'batch' && answer.batch
        ? `batch run ${answer.batch.runId} (watermark ${fmtInstant(answer.batch.watermark)})`
        : `speed layer (Redis, complete since ${fmtInstant(answer.speed.coveredSince)})`;
    fill(
      this.tip,
      el('strong', {}, `${fmtBucket(p.start, view.granularity)} UTC`),
      el('br'),
      `${view.measure}: ${fmtValue(p.value, view.def)}`,
      el('br'),
      `source: ${source}`,
      p.complete ? null : el('br'),
      p.complete ? null : el('em', {}, `incomplete: ${p.incompleteReason ?? 'unknown'}`),
    );
    this.tip.hidden = false;
    placeTooltip(this.plot, this.tip, this.plot.valToPos(p.start, 'x'));
  }

  private onKey(e: KeyboardEvent): void {
    const view = this.current;
    if (!view || !this.plot || view.points.length === 0) return;
    const last = view.points.length - 1;
    const next: Record<string, number> = { ArrowLeft: Math.max(0, this.focusIdx - 1), ArrowRight: Math.min(last, this.focusIdx + 1), Home: 0, End: last };
    if (e.key === 'Escape') {
      this.showTip(null);
      return;
    }
    const idx = next[e.key];
    if (idx === undefined) return;
    e.preventDefault();
    this.focusIdx = idx;
    const p = view.points[idx]!;
    this.plot.setCursor({ left: this.plot.valToPos((p.start + p.end) / 2, 'x'), top: this.plot.over.clientHeight / 2 });
    this.showTip(idx);
    // Read out only for keyboard steps: a live region updated on every mouse move would chatter.
    this.spoken.textContent = this.tip.textContent;
  }
}
