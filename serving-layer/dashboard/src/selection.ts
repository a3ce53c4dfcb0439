/**
 * What the user picked, kept in the page's URL (`?view=pageviews&granularity=minute&...`) so a
 * view of the dashboard can be bookmarked or shared. The filter uses the API's own syntax:
 * `filter=url:/home` for a value, `filter=url` for the missing value.
 */
import type { Granularity, ViewDef } from './api.js';

export interface Selection {
  view: string;
  /** the dimension whose values the value picker lists; null when the view has none */
  dimension: string | null;
  /** undefined = every value; null = the missing value */
  value: string | null | undefined;
  granularity: Granularity;
  measure: string;
  /** how many buckets back from the current one */
  buckets: number;
  /** seconds between refreshes; 0 = not live */
  refreshSec: number;
}

export const BUCKET_CHOICES = [30, 60, 120, 240] as const;
export const REFRESH_CHOICES = [0, 2, 5, 10, 30] as const;
const DEFAULT_BUCKETS = 60;
const DEFAULT_REFRESH = 5;

function choice<T extends number>(raw: string | null, allowed: readonly T[], fallback: T): T {
  const n = Number(raw);
  return raw !== null && (allowed as readonly number[]).includes(n) ? (n as T) : fallback;
}

/** Reads the selection from a query string, falling back to defaults for anything unknown. */
export function readSelection(views: readonly ViewDef[], search: string): Selection {
  const p = new URLSearchParams(search);
  const view = views.find((v) => v.name === p.get('view')) ?? views[0];
  if (!view) throw new Error('the service has no views');
  const g = view.granularities.find((x) => x === p.get('granularity')) ?? (view.granularities.includes('minute') ? 'minute' : view.granularities[0]!);
  const measures = Object.keys(view.measures);
  const measure = measures.find((m) => m === p.get('measure')) ?? measures[0]!;
  let dimension = view.dimensions.find((d) => d === p.get('dim')) ?? view.dimensions[0] ?? null;
  let value: string | null | undefined;
  const filter = p.get('filter');
  if (filter !== null) {
    const i = filter.indexOf(':');
    const dim = i < 0 ? filter : filter.slice(0, i);
    if (view.dimensions.includes(dim)) {
      dimension = dim;
      value = i < 0 ? null : filter.slice(i + 1);
    }
  }
  return {
    view: view.name,
    dimension,
    value,
    granularity: g,
    measure,
    buckets: choice(p.get('buckets'), BUCKET_CHOICES, DEFAULT_BUCKETS),
    refreshSec: choice(p.get('refresh'), REFRESH_CHOICES, DEFAULT_REFRESH),
  };
}

/** The API's `filter` parameter for the selection, or undefined for every value. */
export function filterParam(sel: Selection): string | undefined {
  if (sel.dimension === null || sel.value === undefined) return undefined;
  return sel.value === null ? sel.dimension : `${sel.dimension}:${sel.value}`;
}

export function selectionSearch(sel: Selection): string {
  const p = new URLSearchParams({
    view: sel.view,
    granularity: sel.granularity,
    measure: sel.measure,
    buckets: String(sel.buckets),
    refresh: String(sel.refreshSec),
  });
  if (sel.dimension !== null) p.set('dim', sel.dimension);
  const filter = filterParam(sel);
  if (filter !== undefined) p.set('filter', filter);
  return `?${p.toString()}`;
}

const GRANULARITY_MS: Record<Granularity, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export function granularityMs(g: Granularity): number {
  return GRANULARITY_MS[g];
}

/**
 * The range [from, to): the last `buckets` buckets up to and including the current one. UTC
 * buckets of a minute, an hour or a day all floor on epoch milliseconds.
 */
export function rangeOf(sel: Selection, now: number): { from: number; to: number } {
  const len = granularityMs(sel.granularity);
  const to = Math.floor(now / len) * len + len;
  return { from: to - sel.buckets * len, to };
}
