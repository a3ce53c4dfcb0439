/**
 * Colours from the Okabe-Ito palette (safe for the common colour-vision deficiencies), each with
 * at least 3:1 contrast on white. Colour is never the only cue: batch bars are solid, speed bars
 * hatched, and every legend, tooltip and table names the source in words.
 */
export const COLORS = {
  batch: '#0072B2',
  speed: '#D55E00',
  watermark: '#000000',
  incomplete: '#767676',
} as const;

const patterns = new WeakMap<CanvasRenderingContext2D, Map<string, CanvasPattern>>();

/** Diagonal stripes of `color` on a light tint of it, sized for the canvas's pixel ratio. */
export function hatch(ctx: CanvasRenderingContext2D, color: string, tint = 0.18): CanvasPattern | string {
  let byColor = patterns.get(ctx);
  if (!byColor) patterns.set(ctx, (byColor = new Map()));
  const cached = byColor.get(color);
  if (cached) return cached;
  const px = Math.max(1, Math.round(window.devicePixelRatio || 1));
  const size = 8 * px;
  const tile = document.createElement('canvas');
  tile.width = size;
  tile.height = size;
  const t = tile.getContext('2d');
  if (!t) return color;
  t.fillStyle = color;
  t.globalAlpha = tint;
  t.fillRect(0, 0, size, size);
  t.globalAlpha = 1;
  t.strokeStyle = color;
  t.lineWidth = 2 * px;
  t.beginPath();
  // Three strokes so the stripes meet across tile edges.
  for (const o of [-size, 0, size]) {
    t.moveTo(o, size);
    t.lineTo(o + size, 0);
  }
  t.stroke();
  const pattern = ctx.createPattern(tile, 'repeat');
  if (!pattern) return color;
  byColor.set(color, pattern);
  return pattern;
}
