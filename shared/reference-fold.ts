/**
 * The reference implementation (Summingbird's in-memory "InScala" platform): the
 * views computed by the plainest possible loop over a list of records. Tests
 * compare the real layers against it. It deliberately does NOT use Aggregate or
 * the monoids, so a bug there cannot hide by also being in the reference. It
 * shares only the definition of validity (validateEvent), of projection
 * (project) and of bucketing (floorTo), which are the spec, not the engine.
 */
import { LambdaError } from './errors.js';
import { parseEventLine, validateEvent, type LambdaEvent } from './events.js';
import { floorTo, type Granularity } from './time.js';
import type { ViewDef, ViewSet } from './views/definition.js';
import { getView } from './views/load.js';
import { project } from './views/project.js';
import { groupKey } from './aggregate/aggregate.js';

export type FinalValues = Record<string, number | null>;

/** Accumulator per measure: a number (count, scaled sum/min/max), null (no min/max yet), a Set, or an avg's scaled sum and count. */
type Acc = Record<string, number | null | Set<string> | { sum: number; n: number }>;

/**
 * Valid events, first occurrence of each id kept (list order). Strings are JSON
 * lines; anything else is taken as an already-parsed value. Invalid records are
 * dropped before dedupe, so an invalid record never hides a valid one.
 */
export function validDeduped(records: readonly unknown[], views: ViewSet): LambdaEvent[] {
  const seen = new Set<string>();
  const out: LambdaEvent[] = [];
  for (const r of records) {
    const res = typeof r === 'string' ? parseEventLine(r, views) : validateEvent(r, views);
    if (!res.ok) continue;
    if (seen.has(res.event.id)) continue;
    seen.add(res.event.id);
    out.push(res.event);
  }
  return out;
}

function emptyAcc(view: ViewDef): Acc {
  const acc: Acc = {};
  for (const [name, m] of Object.entries(view.measures)) {
    if (m.type === 'count' || m.type === 'sum') acc[name] = 0;
    else if (m.type === 'distinct') acc[name] = new Set<string>();
    else if (m.type === 'avg') acc[name] = { sum: 0, n: 0 };
    else acc[name] = null;
  }
  return acc;
}

function addTo(acc: Acc, view: ViewDef, contributions: Record<string, number | string | null>): void {
  for (const [name, m] of Object.entries(view.measures)) {
    const c = contributions[name];
    const cur = acc[name];
    if (c === null || c === undefined) continue;
    if (m.type === 'distinct') (cur as Set<string>).add(c as string);
    else if (m.type === 'avg') {
      const a = cur as { sum: number; n: number };
      a.sum += c as number;
      a.n++;
    } else if (m.type === 'count' || m.type === 'sum') acc[name] = (cur as number) + (c as number);
    else if (m.type === 'min') acc[name] = cur === null ? (c as number) : Math.min(cur as number, c as number);
    else acc[name] = cur === null ? (c as number) : Math.max(cur as number, c as number);
  }
}

function finish(acc: Acc, view: ViewDef): FinalValues {
  const out: FinalValues = {};
  for (const [name, m] of Object.entries(view.measures)) {
    const v = acc[name] ?? null;
    if (v instanceof Set) out[name] = v.size;
    else if (typeof v === 'object' && v !== null) out[name] = v.n === 0 ? null : v.sum / 10 ** (m as { decimals: number }).decimals / v.n;
    else if (m.type === 'count' || m.type === 'distinct' || v === null) out[name] = v;
    else out[name] = v / 10 ** (m as { decimals: number }).decimals;
  }
  return out;
}

/** Every group of every view at every granularity -> final values, keyed by groupKey(). */
export function referenceFold(records: readonly unknown[], views: ViewSet): Map<string, FinalValues> {
  const accs = new Map<string, { view: ViewDef; acc: Acc }>();
  for (const event of validDeduped(records, views)) {
    for (const view of views.views) {
      const p = project(view, event);
      if (p === null) continue;
      for (const g of view.granularities) {
        const key = groupKey(view.name, g, floorTo(event.ts, g), p.dims);
        let entry = accs.get(key);
        if (entry === undefined) {
          entry = { view, acc: emptyAcc(view) };
          accs.set(key, entry);
        }
        addTo(entry.acc, view, p.measures);
      }
    }
  }
  const result = new Map<string, FinalValues>();
  for (const [key, { view, acc }] of accs) result.set(key, finish(acc, view));
  return result;
}

export interface TotalsQuery {
  view: string;
  granularity: Granularity;
  from: number;
  to: number;
  /** dimension name -> required (normalised) value */
  filter?: Record<string, string | null>;
}

/** Key of a dims tuple in referenceTotals' result. */
export function dimsKey(dims: readonly (string | null)[]): string {
  return JSON.stringify(dims);
}

/**
 * Totals per dims tuple over the buckets of [from, to) at granularity g (the
 * buckets bucketsInRange returns: start >= floor_g(from) and start < to). Counts
 * and sums add, min/max over the range, distinct = exact distinct members over
 * the whole range (not the sum of per-bucket counts).
 */
export function referenceTotals(records: readonly unknown[], views: ViewSet, q: TotalsQuery): Map<string, FinalValues> {
  const view = getView(views, q.view);
  if (view === undefined) throw new LambdaError('NOT_FOUND', `no view "${q.view}"`);
  if (!view.granularities.includes(q.granularity)) {
    throw new LambdaError('VALIDATION', `view "${q.view}" has no ${q.granularity} granularity`);
  }
  const filter = Object.entries(q.filter ?? {}).map(([dim, want]) => {
    const i = view.dimensions.indexOf(dim);
    if (i < 0) throw new LambdaError('VALIDATION', `view "${q.view}" has no dimension "${dim}"`);
    return { i, want };
  });
  const first = floorTo(q.from, q.granularity);
  const accs = new Map<string, Acc>();
  for (const event of validDeduped(records, views)) {
    const bucket = floorTo(event.ts, q.granularity);
    if (bucket < first || bucket >= q.to) continue;
    const p = project(view, event);
    if (p === null) continue;
    if (filter.some(({ i, want }) => p.dims[i] !== want)) continue;
    const key = dimsKey(p.dims);
    let acc = accs.get(key);
    if (acc === undefined) {
      acc = emptyAcc(view);
      accs.set(key, acc);
    }
    addTo(acc, view, p.measures);
  }
  const result = new Map<string, FinalValues>();
  for (const [key, acc] of accs) result.set(key, finish(acc, view));
  return result;
}
