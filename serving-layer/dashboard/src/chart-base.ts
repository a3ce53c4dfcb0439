/**
 * What both charts share: a uPlot time axis in UTC over a fixed range [from, to), bars centred
 * in their buckets (so a bucket's bar sits between its start and end and the watermark line
 * falls between the last batch bar and the first speed bar), no zoom (the range is the picker's),
 * and a size that follows the container.
 */
import uPlot from 'uplot';

export const CHART_HEIGHT = 280;

export interface XRange {
  from: number;
  to: number;
}

export function bars(align: -1 | 0 | 1, factor: number): uPlot.Series.PathBuilder {
  const builder = uPlot.paths.bars;
  if (!builder) throw new Error('uPlot was built without bar paths');
  return builder({ align, size: [factor, 80, 1] });
}

/**
 * Tick labels in UTC, 24-hour: `14:05`, with the date under the first tick of each day; dates
 * alone once ticks are a day or more apart.
 */
function utcTicks(_u: uPlot, splits: number[], _axisIdx: number, _space: number, incr: number): string[] {
  return splits.map((v, i) => {
    const iso = new Date(v).toISOString();
    if (incr >= 86_400_000) return iso.slice(0, 10);
    const prev = splits[i - 1];
    const newDay = prev === undefined || new Date(prev).toISOString().slice(0, 10) !== iso.slice(0, 10);
    return newDay ? `${iso.slice(11, 16)}\n${iso.slice(0, 10)}` : iso.slice(11, 16);
  });
}

/** Options for a bar chart of buckets; `series` are appended after the x series. */
export function barChartOptions(width: number, range: () => XRange, yLabel: string, series: uPlot.Series[], hooks: uPlot.Hooks.Arrays): uPlot.Options {
  return {
    width,
    height: CHART_HEIGHT,
    ms: 1,
    tzDate: (ts) => uPlot.tzDate(new Date(ts), 'Etc/UTC'),
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { show: false }, y: false },
    select: { show: false, left: 0, top: 0, width: 0, height: 0 },
    scales: {
      x: { time: true, range: () => [range().from, range().to] },
      y: { range: (_u, min, max) => [Math.min(0, min ?? 0), max === null || max <= 0 ? 1 : max * 1.1] },
    },
    axes: [
      { label: 'bucket start (UTC)', stroke: '#222', grid: { stroke: '#e4e4e4' }, values: utcTicks, size: 48 },
      { label: yLabel, stroke: '#222', grid: { stroke: '#e4e4e4' }, size: 60 },
    ],
    series: [{}, ...series],
    hooks,
  };
}

/** Keeps a chart as wide as its container. Returns a function that stops following it. */
export function followWidth(container: HTMLElement, chart: () => uPlot | null): () => void {
  const observer = new ResizeObserver(() => {
    const u = chart();
    const width = container.clientWidth;
    if (u && width > 0 && Math.abs(u.width - width) > 1) u.setSize({ width, height: CHART_HEIGHT });
  });
  observer.observe(container);
  return () => observer.disconnect();
}

/** Places a tooltip element next to the cursor, inside the plot area. */
export function placeTooltip(u: uPlot, tip: HTMLElement, left: number): void {
  const plotWidth = u.over.clientWidth;
  const x = left > plotWidth / 2 ? left - tip.offsetWidth - 12 : left + 12;
  tip.style.left = `${Math.max(0, x)}px`;
  tip.style.top = '28px'; // below the watermark's label
}
