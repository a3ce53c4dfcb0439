/**
 * The run's ViewSet, rebuilt inside a map worker from the definitions the main thread already
 * validated (views-text.ts: the normalised document, defaults filled in). Loading it through
 * shared/views/load.ts would validate it again with zod, whose import alone costs each worker a
 * quarter of a second of start-up. Instead the worker checks the one thing that matters: the
 * definitions it got hash to exactly the run's ViewSet.hash (the same fingerprint load.ts takes),
 * so the workers compute with the very definitions main validated, or the run fails loudly.
 */
import { LambdaError } from '../../shared/errors.js';
import { canonicalJson, fnv1a64 } from '../../shared/hash.js';
import type { ViewDef, ViewSet } from '../../shared/views/definition.js';

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export function viewSetFromValidatedText(viewsJson: string, source: string, expectedHash: string): ViewSet {
  const doc = JSON.parse(viewsJson) as { views?: unknown };
  if (!Array.isArray(doc.views)) throw new LambdaError('INTERNAL', `map worker: the run's views document has no "views" array (${source})`);
  const views = deepFreeze(doc.views as ViewDef[]);
  const hash = fnv1a64(canonicalJson(views));
  if (hash !== expectedHash) {
    // The main thread computes with one ViewSet, this worker with the text it was given: they must agree.
    throw new LambdaError('INTERNAL', `map worker views (${hash}) differ from the run's views (${expectedHash}); pass the text the views were loaded from`);
  }
  const byName = Object.create(null) as Record<string, ViewDef>;
  for (const v of views) byName[v.name] = v;
  return Object.freeze({ views: Object.freeze(views), byName: Object.freeze(byName), hash, source });
}
