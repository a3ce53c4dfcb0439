/**
 * Stated limits on what an event may carry (docs/design-decisions.md §2, "Limits"). They live in
 * shared/ so that the ingest route, the speed layer, the archiver and the batch run refuse exactly
 * the same events, each with reason `bad_field` (`bad_id` for the id), naming the field.
 * shared/events.ts re-exports them; fields.ts reads MAX_VALUE_LENGTH without importing events.ts
 * (which imports it).
 */

/** Longest `id`, in UTF-16 code units (what String.length counts). */
export const MAX_ID_LENGTH = 256;

/**
 * Longest string a view reads as a dimension or a distinct member. Such values become Redis keys,
 * SQLite rows and HLL members; a 500,000-character URL has no business there.
 */
export const MAX_VALUE_LENGTH = 1024;

/** String.prototype.isWellFormed (ES2024, in Node 20; the project's lib is ES2023). */
interface WellFormed {
  isWellFormed(): boolean;
}

/**
 * Whether a string an event's id or a view keeps (dimension value, distinct member) can be stored
 * as text everywhere: no U+0000 and no lone surrogate (`"\ud800"` parses to one). A lone
 * surrogate has no UTF-8 form: SQLite and DuckDB turn it into U+FFFD, so `"\ud800"` and
 * `"\udbff"` would become one text (one id, one group, one visitor in a SQL engine). U+0000 ends
 * the string at every C interface (DuckDB's among them). Refused like an over-long value (issue 15).
 */
export function isStorableText(s: string): boolean {
  return !s.includes('\u0000') && (s as unknown as WellFormed).isWellFormed();
}

/** Why a string fails isStorableText, for messages. */
export const NOT_STORABLE = 'holds U+0000 or a lone surrogate (\\ud800-\\udfff), which no store keeps as text';

/**
 * Deepest nesting of arrays and objects in an event, the event object being level 1
 * (`{"a": {"b": [1]}}` is 3 levels deep). Far above what any real event needs, and far below what
 * overflows a recursive walk: JSON.parse reads a 5,000-deep value fine, JSON.stringify does not.
 */
export const MAX_EVENT_DEPTH = 32;

/**
 * The first top-level field of `body` whose value nests deeper than MAX_EVENT_DEPTH, or null.
 * Iterative with an explicit stack, never recursive, so no input can overflow the call stack here;
 * a cyclic object (only possible in code, not from JSON) ends as "too deep" instead of looping.
 */
export function tooDeepField(body: Readonly<Record<string, unknown>>): string | null {
  for (const key of Object.keys(body)) {
    const v = body[key];
    // Scalars are level 1 with the event itself: the common flat event costs one typeof per field.
    if (typeof v === 'object' && v !== null && deeperThan(v, MAX_EVENT_DEPTH - 1)) return key;
  }
  return null;
}

/** Whether `root` (counted as level 1) has anything below level `levels`. */
function deeperThan(root: object, levels: number): boolean {
  const nodes: object[] = [root];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop() as object;
    const depth = depths.pop() as number;
    if (depth > levels) return true;
    const children: unknown[] = Array.isArray(node) ? node : Object.values(node);
    for (const c of children) {
      if (typeof c === 'object' && c !== null) {
        nodes.push(c);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
