/**
 * View definitions are data (docs/design-decisions.md §3): one JSON file read by every layer, so
 * the aggregation logic is written once (Summingbird's idea). This module holds
 * the schema and the types; `load.ts` turns a file into a validated ViewSet.
 */
import { z } from 'zod';
import { GRANULARITIES, type Granularity } from '../time.js';
import { MAX_DECIMALS } from '../decimal.js';
import { MEASURE_KINDS, MEMBER_KINDS, ROW_KINDS, SCALED_KINDS, type MeasureKind } from '../aggregate/measure-kinds.js';

export { MEASURE_KINDS, type MeasureKind };

/** View and measure names end up in Redis keys, SQLite tables and URLs: keep them boring. */
export const NAME_RE = /^[a-z][a-z0-9_]{0,62}$/;
/**
 * Event field names a view may read (top-level keys of the event object). Limited
 * to identifier characters so the definitions can compile to SQL (DuckDB/Trino)
 * without quoting games. Nested paths are not supported. "__proto__" is excluded
 * because assigning it as a plain-object key changes the prototype instead.
 */
export const FIELD_RE = /^(?!__proto__$)[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export const MAX_DIMENSIONS = 8;
export const MAX_MEASURES = 32;
export const MAX_VIEWS = 100;
export const DEFAULT_DECIMALS = 2;

export type Scalar = string | number | boolean | null;

/** The kinds and what each reads come from the measure table (shared/aggregate/measure-kinds.ts). */
export interface CountMeasure {
  readonly type: (typeof ROW_KINDS)[number];
}
export interface NumericMeasure {
  readonly type: (typeof SCALED_KINDS)[number];
  readonly field: string;
  /** values are stored as exact integers value * 10^decimals */
  readonly decimals: number;
}
export interface DistinctMeasure {
  readonly type: (typeof MEMBER_KINDS)[number];
  readonly field: string;
}
export type MeasureDef = CountMeasure | NumericMeasure | DistinctMeasure;

export interface ViewDef {
  readonly name: string;
  readonly description: string;
  readonly dimensions: readonly string[];
  /** equality on every key; `{}` matches every event */
  readonly filter: Readonly<Record<string, Scalar>>;
  /** insertion order of the file is kept and is the column order everywhere */
  readonly measures: Readonly<Record<string, MeasureDef>>;
  readonly granularities: readonly Granularity[];
}

export interface ViewSet {
  readonly views: readonly ViewDef[];
  /** null-prototype: a lookup of "constructor" or "__proto__" finds nothing */
  readonly byName: Readonly<Record<string, ViewDef>>;
  /** stable hash of the normalised definitions; stored with each batch run */
  readonly hash: string;
  /** where the definitions came from (file name), for messages */
  readonly source: string;
}

// ---- zod schema for the file (JSON) --------------------------------------------

const nameSchema = z.string().regex(NAME_RE);
const fieldSchema = z.string().regex(FIELD_RE);
const scalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const countSchema = (type: CountMeasure['type']) => z.strictObject({ type: z.literal(type) });
const numericSchema = (type: NumericMeasure['type']) =>
  z.strictObject({
    type: z.literal(type),
    field: fieldSchema,
    decimals: z.number().int().min(0).max(MAX_DECIMALS).default(DEFAULT_DECIMALS),
  });
const distinctSchema = (type: DistinctMeasure['type']) => z.strictObject({ type: z.literal(type), field: fieldSchema });

export const measureSchema = z.discriminatedUnion('type', [
  ...ROW_KINDS.map(countSchema),
  ...SCALED_KINDS.map(numericSchema),
  ...MEMBER_KINDS.map(distinctSchema),
] as [ReturnType<typeof countSchema>, ...(ReturnType<typeof countSchema> | ReturnType<typeof numericSchema> | ReturnType<typeof distinctSchema>)[]]);

export const viewSchema = z.strictObject({
  name: nameSchema,
  description: z.string().max(1000).default(''),
  dimensions: z.array(fieldSchema).max(MAX_DIMENSIONS).default([]),
  filter: z.record(fieldSchema, scalarSchema).default({}),
  measures: z.record(nameSchema, measureSchema),
  // Omitted -> all three, which is what a clickstream dashboard wants.
  granularities: z
    .array(z.enum(['minute', 'hour', 'day'] as const satisfies readonly Granularity[]))
    .min(1)
    .default([...GRANULARITIES]),
});

export const viewsDocumentSchema = z.strictObject({
  views: z.array(viewSchema).min(1).max(MAX_VIEWS),
});

/** The file as written by a user (before defaults are applied). */
export type ViewsDocument = z.input<typeof viewsDocumentSchema>;

/**
 * Whether a caller keeping `keep` (its groupBy; absent = all) keeps every dimension of the view:
 * then each stored group is its own answer group and nothing needs rolling up.
 */
export function keepsEveryDimension(view: ViewDef, keep: readonly string[] | undefined): boolean {
  return keep === undefined || view.dimensions.every((d) => keep.includes(d));
}
