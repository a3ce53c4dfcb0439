/**
 * The measure algebra, in one table (docs/design-decisions.md, "Measure algebra"). Every store
 * keeps CELLS: primitive exact integers (count, sum, min, max) or a distinct cell (exact member
 * set in the batch engines, HyperLogLog in Redis, its exact count in a run file). A measure kind
 * is a list of cells plus a finalize; only this module knows how a kind maps to cells and how it
 * finalizes, so the stores, the SQL and the serving layer switch on cell kinds, never on measure
 * kinds, and a new measure kind is a new row here.
 */
import { LambdaError } from '../errors.js';
import { unscale } from '../decimal.js';

/**
 * The shapes of shared/views/definition.ts and project.ts this module reads, spelled out here:
 * definition.ts builds its types and schema from this table, so the table imports neither.
 */
interface MeasureDef {
  readonly type: MeasureKind;
  readonly decimals?: number;
}
interface ViewDef {
  readonly name: string;
  readonly measures: Readonly<Record<string, MeasureDef>>;
}
type Contribution = number | string | null;

// ---- cells: the primitives every platform stores --------------------------------------------

export const CELL_KINDS = Object.freeze(['count', 'sum', 'min', 'max', 'distinct'] as const);
export type CellKind = (typeof CELL_KINDS)[number];

export interface CellSpec {
  /** the stored value of a cell nothing was added to */
  readonly identity: number | null;
  /** stored a ⊕ stored b (scaled integers); a distinct cell's exact count cannot be combined: null */
  combine(a: number | null, b: number | null): number | null;
  /** the batch job's aggregate over the projection column (null: the cell counts rows) */
  sqlAggregate(col: string | null): string;
  /** the SQL combining the stored cell of several rows of one group (a run file's roll-up) */
  sqlRollup(col: string): string;
  /** how the speed layer applies it (adapters/redis/apply-ops.ts): HINCRBY, compare-and-set or PFADD */
  readonly redisOp: 'incr' | 'min' | 'max' | 'hll';
  /** the run file's column type */
  readonly sqliteType: 'INTEGER';
  /** whether stored cells of several groups combine exactly */
  readonly rollsUp: boolean;
  /** how the dashboard combines final values of a one-cell measure (it never sees cells); null: it cannot */
  readonly finalCombine: 'add' | 'min' | 'max' | null;
}

function addExact(a: number | null, b: number | null): number | null {
  const r = (a ?? 0) + (b ?? 0);
  if (!Number.isSafeInteger(r)) throw new LambdaError('INTERNAL', `a total overflowed 2^53 (exact integers); use fewer decimals for this measure`);
  return r;
}

function extreme(pick: (a: number, b: number) => number) {
  return (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : pick(a, b));
}

export const CELLS: Readonly<Record<CellKind, CellSpec>> = Object.freeze({
  count: {
    identity: 0,
    combine: addExact,
    sqlAggregate: (col: string | null) => (col === null ? 'count(*)' : `count(${col})`),
    sqlRollup: (col: string) => `SUM(${col})`,
    redisOp: 'incr',
    sqliteType: 'INTEGER',
    rollsUp: true,
    finalCombine: 'add',
  },
  sum: {
    identity: 0,
    combine: addExact,
    sqlAggregate: (col: string | null) => `coalesce(sum(${col}), 0)`,
    sqlRollup: (col: string) => `SUM(${col})`,
    redisOp: 'incr',
    sqliteType: 'INTEGER',
    rollsUp: true,
    finalCombine: 'add',
  },
  min: {
    identity: null,
    combine: extreme(Math.min),
    sqlAggregate: (col: string | null) => `min(${col})`,
    sqlRollup: (col: string) => `MIN(${col})`,
    redisOp: 'min',
    sqliteType: 'INTEGER',
    rollsUp: true,
    finalCombine: 'min',
  },
  max: {
    identity: null,
    combine: extreme(Math.max),
    sqlAggregate: (col: string | null) => `max(${col})`,
    sqlRollup: (col: string) => `MAX(${col})`,
    redisOp: 'max',
    sqliteType: 'INTEGER',
    rollsUp: true,
    finalCombine: 'max',
  },
  distinct: {
    identity: 0,
    // Exact distinct counts of different groups cannot be added (a visitor may be in several).
    combine: () => null,
    sqlAggregate: (col: string | null) => `count(DISTINCT ${col})`,
    sqlRollup: (col: string) => `CASE WHEN COUNT(*) = 1 THEN MAX(${col}) END`,
    redisOp: 'hll',
    sqliteType: 'INTEGER',
    rollsUp: false,
    finalCombine: null,
  },
});

// ---- measure kinds: cells + finalize ---------------------------------------------------------

/** What a measure reads of an event: nothing (it counts rows), a scaled number, or a member string. */
export type Reads = 'rows' | 'scaled' | 'member';

export interface KindSpec {
  readonly reads: Reads;
  /**
   * Its cells, in stored order. The first is named as the measure (so a one-cell kind keeps the
   * names runs and Redis always had), the others `<measure>.<suffix>`. `ofField`: a count cell
   * that counts the events carrying the field instead of every event.
   */
  readonly cells: readonly { readonly cell: CellKind; readonly suffix?: string; readonly ofField?: boolean }[];
  /** the stored cells (scaled integers, in cells order) -> the value a user is served */
  finalize(stored: readonly (number | null)[], decimals: number): number | null;
}

/** The kinds by what they read: definition.ts builds the types and the file schema from these lists. */
export const ROW_KINDS = Object.freeze(['count'] as const);
export const SCALED_KINDS = Object.freeze(['sum', 'min', 'max', 'avg'] as const);
export const MEMBER_KINDS = Object.freeze(['distinct'] as const);
export type MeasureKind = (typeof ROW_KINDS)[number] | (typeof SCALED_KINDS)[number] | (typeof MEMBER_KINDS)[number];

const scaledOrNull = (v: number | null | undefined, d: number): number | null => (v === null || v === undefined ? null : unscale(v, d));

export const KINDS: Readonly<Record<MeasureKind, KindSpec>> = Object.freeze({
  count: { reads: 'rows', cells: [{ cell: 'count' }], finalize: (s: readonly (number | null)[]) => s[0] ?? null },
  // sum: 0 when nothing was summed, as SQL's COALESCE(SUM(x), 0) gives
  sum: { reads: 'scaled', cells: [{ cell: 'sum' }], finalize: (s: readonly (number | null)[], d: number) => unscale(s[0] ?? 0, d) },
  min: { reads: 'scaled', cells: [{ cell: 'min' }], finalize: (s: readonly (number | null)[], d: number) => scaledOrNull(s[0], d) },
  max: { reads: 'scaled', cells: [{ cell: 'max' }], finalize: (s: readonly (number | null)[], d: number) => scaledOrNull(s[0], d) },
  distinct: { reads: 'member', cells: [{ cell: 'distinct' }], finalize: (s: readonly (number | null)[]) => s[0] ?? null },
  // avg: the sum of the field and the number of events carrying it; null when none did. Both
  // cells add, so it rolls up and merges across layers exactly.
  avg: {
    reads: 'scaled',
    cells: [{ cell: 'sum' }, { cell: 'count', ofField: true }],
    finalize: (s: readonly (number | null)[], d: number) => {
      const n = s[1] ?? 0;
      return n === 0 ? null : unscale(s[0] ?? 0, d) / n;
    },
  },
});

export const MEASURE_KINDS: readonly MeasureKind[] = Object.freeze(Object.keys(KINDS) as MeasureKind[]);

export function kindOf(def: MeasureDef): KindSpec {
  return KINDS[def.type];
}

export function decimalsOf(def: MeasureDef): number {
  return def.decimals ?? 0;
}

/**
 * The decimals at which two values of the measure are compared exactly (shared/merge.ts drift):
 * a scaled one-cell measure's own; undefined for integers and for a quotient (avg).
 */
export function exactDecimals(def: MeasureDef): number | undefined {
  const k = kindOf(def);
  return k.reads === 'scaled' && k.cells.length === 1 ? decimalsOf(def) : undefined;
}

/** Whether the measure counts the events of its group (the drift report attributes count differences). */
export function countsEvents(def: MeasureDef): boolean {
  return kindOf(def).reads === 'rows';
}

/** The value a measure has when no event fed it (what a layer without the group answers). */
export function emptyValue(def: MeasureDef): number | null {
  const k = kindOf(def);
  return k.finalize(
    k.cells.map((c) => CELLS[c.cell].identity),
    decimalsOf(def),
  );
}

/** Whether the measure's value over several groups is exact from their stored cells. */
export function rollsUp(def: MeasureDef): boolean {
  return kindOf(def).cells.every((c) => CELLS[c.cell].rollsUp);
}

/** Whether the measure keeps a distinct cell (so a sketch in run files and an HLL in Redis). */
export function isSketched(def: MeasureDef): boolean {
  return kindOf(def).cells.some((c) => c.cell === 'distinct');
}

/** isSketched of the view's measure `name`; false for a name the view lacks. */
export const sketchedIn = (view: ViewDef, name: string): boolean => Object.hasOwn(view.measures, name) && isSketched(view.measures[name] as MeasureDef);

/**
 * What a client that sees final values only (the browser dashboard, through GET /api/v1/views)
 * needs to know of a measure: the decimals to show, the value of a bucket without rows, how the
 * values of several rows combine (null: they cannot, several rows give no value) and whether the
 * measure has sketches (a union over the range is its total).
 */
export interface MeasureFold {
  decimals: number;
  empty: number | null;
  combine: 'add' | 'min' | 'max' | null;
  sketched: boolean;
}

export function measureFold(def: MeasureDef): MeasureFold {
  const cells = kindOf(def).cells;
  return {
    decimals: kindOf(def).reads === 'scaled' ? decimalsOf(def) : 0,
    empty: emptyValue(def),
    combine: cells.length === 1 && cells[0] !== undefined ? CELLS[cells[0].cell].finalCombine : null,
    sketched: isSketched(def),
  };
}

// ---- a view's cells ---------------------------------------------------------------------------

export interface Cell {
  /** the name every store keys it by */
  readonly name: string;
  readonly measure: string;
  readonly kind: CellKind;
  /** a count cell counting the events that carry the measure's field */
  readonly ofField: boolean;
}

export function measureCells(measure: string, def: MeasureDef): Cell[] {
  return kindOf(def).cells.map((c, i) => ({
    name: i === 0 ? measure : `${measure}.${c.suffix ?? c.cell}`,
    measure,
    kind: c.cell,
    ofField: c.ofField === true,
  }));
}

const viewCellsCache = new WeakMap<ViewDef, Cell[]>();

/** Every cell of the view, measure by measure in view order. */
export function viewCells(view: ViewDef): readonly Cell[] {
  let cells = viewCellsCache.get(view);
  if (cells === undefined) {
    cells = Object.entries(view.measures).flatMap(([name, def]) => measureCells(name, def));
    viewCellsCache.set(view, cells);
  }
  return cells;
}

/** What one event adds to a cell, from what it gives the measure (shared/views/project.ts). */
export function cellContribution(cell: Cell, c: Contribution): Contribution {
  return cell.ofField ? (c === null ? 0 : 1) : c;
}

/** Stored cells (keyed by cell name; absent = the cell's identity) -> the view's values by measure. */
export function finalizeCells(view: ViewDef, stored: Readonly<Record<string, number | null>>): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [name, def] of Object.entries(view.measures)) {
    const cells = measureCells(name, def);
    out[name] = kindOf(def).finalize(
      cells.map((c) => (Object.hasOwn(stored, c.name) ? (stored[c.name] ?? null) : CELLS[c.kind].identity)),
      decimalsOf(def),
    );
  }
  return out;
}

/** into := into ⊕ add, cell by cell (stored values). A cell absent from `into` starts from `add`'s. */
export function combineCells(view: ViewDef, into: Record<string, number | null>, add: Readonly<Record<string, number | null>>): void {
  for (const c of viewCells(view)) into[c.name] = CELLS[c.kind].combine(into[c.name] ?? CELLS[c.kind].identity, add[c.name] ?? CELLS[c.kind].identity);
}

/**
 * A row's stored cells: `cells` when the store gave them, else derived from the values of
 * one-cell measures (the value scaled back); a measure of several cells cannot be derived.
 */
export function rowCells(
  view: ViewDef,
  row: { readonly values: Readonly<Record<string, number | null>>; readonly cells?: Readonly<Record<string, number | null>> },
): Record<string, number | null> {
  if (row.cells !== undefined) return { ...row.cells };
  const out: Record<string, number | null> = {};
  for (const [name, def] of Object.entries(view.measures)) {
    const cells = measureCells(name, def);
    if (cells.length !== 1) throw new LambdaError('INTERNAL', `a row of view "${view.name}" without cells cannot give measure "${name}"'s`);
    const v = row.values[name] ?? null;
    out[name] = v === null || kindOf(def).reads !== 'scaled' ? v : Math.round(v * 10 ** decimalsOf(def));
  }
  return out;
}
