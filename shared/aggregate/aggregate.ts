/**
 * A partial (or complete) aggregate: every group of every view at every
 * granularity, each holding one monoid state per measure. The batch layer builds
 * one per master file (in worker threads) and merges them; the speed layer builds
 * one per fetched Kafka batch and turns it into Redis increments.
 */
import { LambdaError } from '../errors.js';
import type { LambdaEvent } from '../events.js';
import { floorTo, type Granularity } from '../time.js';
import type { MeasureDef, ViewSet } from '../views/definition.js';
import { project } from '../views/project.js';
import {
  addContribution,
  cloneState,
  emptyState,
  mergeInto,
  stateFromPlain,
  stateToPlain,
  type MeasureState,
  type PlainMeasureState,
} from './monoids.js';

export interface GroupState {
  readonly view: string;
  readonly granularity: Granularity;
  readonly bucketStart: number;
  readonly dims: readonly (string | null)[];
  /** one state per measure of the view, keyed by measure name, in view order */
  readonly measures: Record<string, MeasureState>;
}

export interface PlainGroup {
  view: string;
  granularity: Granularity;
  bucketStart: number;
  dims: (string | null)[];
  measures: Record<string, PlainMeasureState>;
}

/** Arrays and plain objects only: cheap to structured-clone or JSON-encode. */
export interface PlainAggregate {
  version: 1;
  groups: PlainGroup[];
}

/**
 * Stable key of a group. JSON.stringify of the tuple is injective: every string
 * is quoted and escaped, so no dimension value (quotes, commas, "null", NUL...)
 * can collide with another group, and null stays distinct from "null".
 */
export function groupKey(view: string, g: Granularity, bucketStart: number, dims: readonly (string | null)[]): string {
  return JSON.stringify([view, g, bucketStart, dims]);
}

export class Aggregate {
  private readonly map = new Map<string, GroupState>();

  get size(): number {
    return this.map.size;
  }

  /**
   * Add one (validated, already deduplicated) event to every view whose filter
   * matches, at every granularity of that view. Returns how many views matched.
   */
  add(event: LambdaEvent, views: ViewSet): number {
    let matched = 0;
    for (const view of views.views) {
      const p = project(view, event);
      if (p === null) continue;
      matched++;
      for (const g of view.granularities) {
        const group = this.group(view.name, g, floorTo(event.ts, g), p.dims, view.measures);
        for (const name in p.measures) {
          addContribution(group.measures[name] as MeasureState, p.measures[name] ?? null);
        }
      }
    }
    return matched;
  }

  /** this := this ⊕ other. `other` is left untouched (states are copied, never shared). */
  mergeFrom(other: Aggregate): void {
    for (const [key, src] of other.map) this.mergeGroup(key, src);
  }

  get(view: string, g: Granularity, bucketStart: number, dims: readonly (string | null)[]): GroupState | undefined {
    return this.map.get(groupKey(view, g, bucketStart, dims));
  }

  /** Groups in insertion order. Callers must not mutate the yielded states. */
  *groups(): IterableIterator<GroupState> {
    yield* this.map.values();
  }

  toPlain(): PlainAggregate {
    const groups: PlainGroup[] = [];
    for (const g of this.map.values()) {
      const measures: Record<string, PlainMeasureState> = {};
      for (const name in g.measures) measures[name] = stateToPlain(g.measures[name] as MeasureState);
      groups.push({ view: g.view, granularity: g.granularity, bucketStart: g.bucketStart, dims: [...g.dims], measures });
    }
    return { version: 1, groups };
  }

  static fromPlain(plain: PlainAggregate): Aggregate {
    if (plain.version !== 1) throw new LambdaError('INTERNAL', `unknown PlainAggregate version ${String(plain.version)}`);
    const agg = new Aggregate();
    for (const p of plain.groups) {
      const measures: Record<string, MeasureState> = {};
      for (const name in p.measures) measures[name] = stateFromPlain(p.measures[name] as PlainMeasureState);
      const state: GroupState = { view: p.view, granularity: p.granularity, bucketStart: p.bucketStart, dims: [...p.dims], measures };
      const key = groupKey(p.view, p.granularity, p.bucketStart, p.dims);
      // Fresh states can be adopted; a repeated group (never produced by toPlain) is merged.
      if (agg.map.has(key)) agg.mergeGroup(key, state);
      else agg.map.set(key, state);
    }
    return agg;
  }

  private group(
    view: string,
    g: Granularity,
    bucketStart: number,
    dims: (string | null)[],
    defs: Readonly<Record<string, MeasureDef>>,
  ): GroupState {
    const key = groupKey(view, g, bucketStart, dims);
    let s = this.map.get(key);
    if (s === undefined) {
      const measures: Record<string, MeasureState> = {};
      for (const name in defs) measures[name] = emptyState((defs[name] as MeasureDef).type);
      s = { view, granularity: g, bucketStart, dims, measures };
      this.map.set(key, s);
    }
    return s;
  }

  private mergeGroup(key: string, src: GroupState): void {
    const dst = this.map.get(key);
    if (dst === undefined) {
      const measures: Record<string, MeasureState> = {};
      for (const name in src.measures) measures[name] = cloneState(src.measures[name] as MeasureState);
      this.map.set(key, { ...src, dims: [...src.dims], measures });
      return;
    }
    const names = Object.keys(src.measures);
    if (names.length !== Object.keys(dst.measures).length || names.some((n) => !Object.hasOwn(dst.measures, n))) {
      // Partials built from different view definitions must never be mixed silently.
      throw new LambdaError('INTERNAL', `group ${key} has different measures in the two aggregates`);
    }
    for (const name of names) mergeInto(dst.measures[name] as MeasureState, src.measures[name] as MeasureState);
  }
}
