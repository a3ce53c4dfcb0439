/** How numbers and times are written on the page: UTC everywhere, like the API's buckets. */
import type { Granularity, MeasureDef } from './api.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** A bucket's start, as precise as its granularity: `2026-05-01 12:34`, or `2026-05-01` for days. */
export function fmtBucket(ms: number, g: Granularity): string {
  return g === 'day' ? iso(ms).slice(0, 10) : iso(ms).slice(0, 16).replace('T', ' ');
}

/** An instant to the second, with its zone: `2026-05-01 12:34:56 UTC`. */
export function fmtInstant(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? 'none' : `${iso(ms).slice(0, 19).replace('T', ' ')} UTC`;
}

/** From the measure table, through the views answer (`fold`): the dashboard switches on no measure kind. */
export function decimalsOf(def: MeasureDef): number {
  return def.fold.decimals;
}

function grouped(v: number, decimals: number): string {
  return v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** A measure value: integers for counts, the measure's decimals for sums, min and max. */
export function fmtValue(v: number | null | undefined, def: MeasureDef): string {
  return v === null || v === undefined ? 'n/a' : grouped(v, decimalsOf(def));
}

/** A signed difference (speed - batch): `+3`, `-1.50`, `0`. */
export function fmtDiff(v: number | null | undefined, def: MeasureDef): string {
  if (v === null || v === undefined) return 'n/a';
  return v > 0 ? `+${grouped(v, decimalsOf(def))}` : grouped(v, decimalsOf(def));
}

/** A relative difference as a percentage; null means batch is 0 while speed is not. */
export function fmtRel(rel: number | null | undefined): string {
  return rel === null || rel === undefined ? 'n/a (batch is 0)' : `${(rel * 100).toFixed(2)} %`;
}

export function fmtCount(n: number | null | undefined): string {
  return n === null || n === undefined ? 'n/a' : n.toLocaleString('en-US');
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return 'n/a';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return 'n/a';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** A dimension value as shown: the missing value is written `(missing)`. */
export function fmtDim(v: string | null | undefined): string {
  return v === null || v === undefined ? '(missing)' : v;
}
