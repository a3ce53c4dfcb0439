/**
 * A partial (or complete) aggregate: every group of every view at every
 * granularity, each holding one monoid state per measure. The batch layer builds
 * one per master file (in worker threads) and merges them; the speed layer builds
 * one per fetched Kafka batch and turns it into Redis increments.
 */
import { LambdaError } from '../errors.js';
import type { LambdaEvent } from '../events.js';
import { floorTo, type Granularity } from '../time.js';
import type { ViewDef, ViewSet } from '../views/definition.js';
import { cellContribution, viewCells, type Cell } from './measure-kinds.js';
import { project, type Projection } from '../views/project.js';
import {
  addContribution,
  cloneState,
  emptyState,
  mergeInto,
  mergePlainInto,
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
  /** one state per cell of the view (measure-kinds.ts viewCells), keyed by cell name, in view order */
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

/**
 * Key of a dims tuple inside one view's table; never leaves this module. One dimension: the value
 * itself (a Map tells null from "null"), so the common case builds no string at all. Otherwise
 * each value is length-prefixed (`3:abc`) and null is `-`, which reads back unambiguously
 * whatever characters the values hold; no dimensions: ''.
 */
type DimsKey = string | null;

function dimsKey(dims: readonly (string | null)[]): DimsKey {
  if (dims.length === 1) return dims[0] as string | null;
  let key = '';
  for (const d of dims) key += d === null ? '-' : `${d.length}:${d}`;
  return key;
}

/** The groups of one view at one granularity: bucket start -> dims key -> group. */
type Table = Map<number, Map<DimsKey, GroupState>>;

export class Aggregate {
  /**
   * view name -> granularity -> table. Nested maps instead of one map keyed by groupKey(): adding
   * an event then costs map look-ups by a number and (usually) a value it already holds, instead
   * of one JSON.stringify per granularity.
   */
  private readonly tables = new Map<string, Map<Granularity, Table>>();
  /** every group once, in insertion order (what groups() yields) */
  private readonly list: GroupState[] = [];

  get size(): number {
    return this.list.length;
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
      this.addProjection(view, event.ts, p);
    }
    return matched;
  }

  /**
   * Add one event already projected through `view` (events.ts validateAndProject computes the
   * projections while validating) at every granularity of the view. `ts` is the event time.
   */
  addProjection(view: ViewDef, ts: number, p: Projection): void {
    const key = dimsKey(p.dims);
    const cells = viewCells(view);
    for (const g of view.granularities) {
      const measures = this.group(view.name, g, floorTo(ts, g), p.dims, key, cells).measures;
      for (const c of cells) addContribution(measures[c.name] as MeasureState, cellContribution(c, p.measures[c.measure] ?? null));
    }
  }

  /**
   * this := this ⊕ plain, straight from the plain form (what a worker sends): the same as
   * mergeFrom(Aggregate.fromPlain(plain)) without building, then copying, a whole second
   * aggregate; distinct members go from the array into this aggregate's sets once.
   */
  mergePlain(plain: PlainAggregate): void {
    if (plain.version !== 1) throw new LambdaError('INTERNAL', `unknown PlainAggregate version ${String(plain.version)}`);
    for (const p of plain.groups) {
      const dst = this.get(p.view, p.granularity, p.bucketStart, p.dims);
      if (dst === undefined) {
        const measures: Record<string, MeasureState> = {};
        for (const name in p.measures) measures[name] = stateFromPlain(p.measures[name] as PlainMeasureState);
        this.adopt({ view: p.view, granularity: p.granularity, bucketStart: p.bucketStart, dims: [...p.dims], measures });
        continue;
      }
      assertSameMeasures(dst, p.measures);
      for (const name in p.measures) mergePlainInto(dst.measures[name] as MeasureState, p.measures[name] as PlainMeasureState);
    }
  }

  /** this := this ⊕ other. `other` is left untouched (states are copied, never shared). */
  mergeFrom(other: Aggregate): void {
    for (const group of other.list) this.mergeGroup(group);
  }

  get(view: string, g: Granularity, bucketStart: number, dims: readonly (string | null)[]): GroupState | undefined {
    return this.tables.get(view)?.get(g)?.get(bucketStart)?.get(dimsKey(dims));
  }

  /** Groups in insertion order. Callers must not mutate the yielded states. */
  *groups(): IterableIterator<GroupState> {
    yield* this.list;
  }

  toPlain(): PlainAggregate {
    const groups: PlainGroup[] = [];
    for (const g of this.list) {
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
      const group: GroupState = { view: p.view, granularity: p.granularity, bucketStart: p.bucketStart, dims: [...p.dims], measures };
      // Fresh states can be adopted; a repeated group (never produced by toPlain) is merged.
      if (agg.get(p.view, p.granularity, p.bucketStart, p.dims) === undefined) agg.adopt(group);
      else agg.mergeGroup(group);
    }
    return agg;
  }

  /** The bucket map of (view, g), created on first use. */
  private table(view: string, g: Granularity): Table {
    let byG = this.tables.get(view);
    if (byG === undefined) {
      byG = new Map();
      this.tables.set(view, byG);
    }
    let t = byG.get(g);
    if (t === undefined) {
      t = new Map();
      byG.set(g, t);
    }
    return t;
  }

  private group(view: string, g: Granularity, bucketStart: number, dims: readonly (string | null)[], key: DimsKey, cells: readonly Cell[]): GroupState {
    const table = this.table(view, g);
    let bucket = table.get(bucketStart);
    if (bucket === undefined) {
      bucket = new Map();
      table.set(bucketStart, bucket);
    }
    let group = bucket.get(key);
    if (group === undefined) {
      const measures: Record<string, MeasureState> = {};
      for (const c of cells) measures[c.name] = emptyState(c.kind);
      group = { view, granularity: g, bucketStart, dims: [...dims], measures };
      bucket.set(key, group);
      this.list.push(group);
    }
    return group;
  }

  /** Takes `group` (fresh states nobody else holds) as a new group. */
  private adopt(group: GroupState): void {
    const table = this.table(group.view, group.granularity);
    let bucket = table.get(group.bucketStart);
    if (bucket === undefined) {
      bucket = new Map();
      table.set(group.bucketStart, bucket);
    }
    bucket.set(dimsKey(group.dims), group);
    this.list.push(group);
  }

  private mergeGroup(src: GroupState): void {
    const dst = this.get(src.view, src.granularity, src.bucketStart, src.dims);
    if (dst === undefined) {
      const measures: Record<string, MeasureState> = {};
      for (const name in src.measures) measures[name] = cloneState(src.measures[name] as MeasureState);
      this.adopt({ ...src, dims: [...src.dims], measures });
      return;
    }
    assertSameMeasures(dst, src.measures);
    for (const name in src.measures) mergeInto(dst.measures[name] as MeasureState, src.measures[name] as MeasureState);
  }
}

/** Partials built from different view definitions must never be mixed silently. */
function assertSameMeasures(dst: GroupState, src: Readonly<Record<string, unknown>>): void {
  const names = Object.keys(src);
  if (names.length !== Object.keys(dst.measures).length || names.some((n) => !Object.hasOwn(dst.measures, n))) {
    const key = groupKey(dst.view, dst.granularity, dst.bucketStart, dst.dims);
    throw new LambdaError('INTERNAL', `group ${key} has different measures in the two aggregates`);
  }
}
