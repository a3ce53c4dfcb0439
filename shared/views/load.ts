/**
 * Views file -> validated, normalised, deeply frozen ViewSet.
 *
 * Error messages are the user interface of this module: a user editing their
 * own views file must learn which file, which view, which measure and which key
 * is wrong, e.g. `views.json: view "revenue": measure "total": sum needs "field"`.
 */
import { LambdaError } from '../errors.js';
import { canonicalJson, fnv1a64 } from '../hash.js';
import { formatIssue } from './format-issue.js';
import { MAX_MEASURES, viewsDocumentSchema, type MeasureDef, type Scalar, type ViewDef, type ViewSet } from './definition.js';

/** Parse JSON text of a views file. Throws LambdaError('VIEWS_INVALID'). */
export function loadViews(jsonText: string, sourceName: string): ViewSet {
  let raw: unknown;
  try {
    raw = JSON.parse(jsonText);
  } catch (e) {
    throw new LambdaError('VIEWS_INVALID', `${sourceName}: not valid JSON: ${(e as Error).message}`, {
      details: { source: sourceName },
      cause: e,
    });
  }
  return viewSetFromDocument(raw, sourceName);
}

/** Validate an already-parsed views document (e.g. the built-in default). */
export function viewSetFromDocument(raw: unknown, sourceName: string): ViewSet {
  const parsed = viewsDocumentSchema.safeParse(raw);
  if (!parsed.success)
    fail(
      sourceName,
      parsed.error.issues.map((i) => formatIssue(i, raw)),
    );
  const problems: string[] = [];
  const seen = new Map<string, number>();
  parsed.data.views.forEach((v, i) => {
    const at = `view "${v.name}"`;
    const prev = seen.get(v.name);
    if (prev !== undefined) problems.push(`${at}: duplicate view name (views #${prev} and #${i})`);
    seen.set(v.name, i);
    const nMeasures = Object.keys(v.measures).length;
    if (nMeasures === 0) problems.push(`${at}: needs at least one measure`);
    if (nMeasures > MAX_MEASURES) problems.push(`${at}: has ${nMeasures} measures, at most ${MAX_MEASURES} allowed`);
    const dup = firstDuplicate(v.dimensions);
    if (dup !== undefined) problems.push(`${at}: dimension "${dup}" is listed twice`);
    const dupG = firstDuplicate(v.granularities);
    if (dupG !== undefined) problems.push(`${at}: granularity "${dupG}" is listed twice`);
  });
  if (problems.length > 0) fail(sourceName, problems);

  const views: ViewDef[] = parsed.data.views.map((v) =>
    deepFreeze({
      name: v.name,
      description: v.description,
      dimensions: [...v.dimensions],
      // Object.fromEntries defines own properties, never touching prototypes.
      filter: Object.fromEntries(Object.entries(v.filter)) as Record<string, Scalar>,
      measures: Object.fromEntries(Object.entries(v.measures).map(([k, m]) => [k, normaliseMeasure(m)])),
      granularities: [...v.granularities],
    }),
  );
  const byName = Object.create(null) as Record<string, ViewDef>;
  for (const v of views) byName[v.name] = v;
  return Object.freeze({
    views: Object.freeze(views),
    byName: Object.freeze(byName),
    hash: fnv1a64(canonicalJson(views)),
    source: sourceName,
  });
}

/** Look a view up by name; undefined for unknown names (including "constructor"). */
export function getView(set: ViewSet, name: string): ViewDef | undefined {
  return Object.hasOwn(set.byName, name) ? set.byName[name] : undefined;
}

function normaliseMeasure(m: MeasureDef): MeasureDef {
  // Rebuild so the frozen definition holds exactly the keys of its kind.
  if (!('field' in m)) return { type: m.type };
  if (!('decimals' in m)) return { type: m.type, field: m.field };
  return { type: m.type, field: m.field, decimals: m.decimals };
}

function fail(source: string, problems: string[]): never {
  const first = problems[0] ?? 'invalid';
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  throw new LambdaError('VIEWS_INVALID', `${source}: ${first}${more}`, { details: { source, problems } });
}

function firstDuplicate<T>(xs: readonly T[]): T | undefined {
  const s = new Set<T>();
  for (const x of xs) {
    if (s.has(x)) return x;
    s.add(x);
  }
  return undefined;
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
