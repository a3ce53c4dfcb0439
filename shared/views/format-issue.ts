/**
 * zod issue -> a sentence a person editing a views file can act on:
 * `view "revenue": measure "total": sum needs "field"`. The path is turned into
 * labels (the view by name when it has one, else by index; the measure by name)
 * and the offending value is looked up in the raw document to quote it.
 */
import type { z } from 'zod';
import { MAX_DIMENSIONS, MEASURE_KINDS } from './definition.js';

type Issue = z.ZodError['issues'][number];
type Path = readonly PropertyKey[];

const NAME_RULE = 'lower-case letters, digits and _, starting with a letter, at most 63 characters';
const FIELD_RULE = 'letters, digits and _, not starting with a digit, at most 64 characters';

function getAt(root: unknown, path: Path): unknown {
  let cur = root;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (typeof k === 'symbol' || !Object.hasOwn(cur, k)) return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : typeName(v) === 'object' || Array.isArray(v) ? typeName(v) : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** ['dimensions', 2] -> 'dimensions[2]' */
function pathText(path: Path): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('');
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
  record: 'an object',
};

export function formatIssue(issue: Issue, raw: unknown): string {
  const path = issue.path;
  const parts: string[] = [];
  let rest: Path = path;
  let measureType: string | undefined;
  if (path[0] === 'views' && typeof path[1] === 'number') {
    const name = getAt(raw, ['views', path[1], 'name']);
    parts.push(typeof name === 'string' && name.length > 0 && name.length <= 80 ? `view "${name}"` : `view #${path[1]}`);
    rest = path.slice(2);
    if (rest[0] === 'measures' && rest.length >= 2) {
      parts.push(`measure "${String(rest[1])}"`);
      const t = getAt(raw, [...path.slice(0, 4), 'type']);
      measureType = typeof t === 'string' ? t : undefined;
      rest = rest.slice(2);
    }
  }
  parts.push(leafMessage(issue, raw, rest, measureType));
  return parts.join(': ');
}

function leafMessage(issue: Issue, raw: unknown, rest: Path, measureType: string | undefined): string {
  const input = getAt(raw, issue.path);
  const key = rest[rest.length - 1];
  const where = rest.length > 0 ? `"${pathText(rest)}"` : 'the document';
  const subject = measureType ?? '';
  switch (issue.code) {
    case 'invalid_type': {
      if (input === undefined && key !== undefined) return `${subject ? `${subject} ` : ''}needs "${String(key)}"`.trimStart();
      const exp = EXPECTED[issue.expected] ?? issue.expected;
      return `${where} must be ${exp}, got ${typeof input === 'number' ? String(input) : typeName(input)}`;
    }
    case 'invalid_format': {
      const isName = key === 'name' && rest.length === 1;
      return `${where} is not a valid ${isName ? 'name' : 'field name'} (${isName ? NAME_RULE : FIELD_RULE}), got ${show(input)}`;
    }
    case 'invalid_key': {
      const parent = rest[rest.length - 2];
      if (parent === 'filter') return `filter key "${String(key)}" is not a valid field name (${FIELD_RULE})`;
      // A bad measure name: formatIssue already labelled it `measure "X"`.
      if (rest.length === 0) return `is not a valid measure name (${NAME_RULE})`;
      return `${where}: invalid key "${String(key)}"`;
    }
    case 'invalid_union': {
      if (key === 'type' && 'discriminator' in issue) {
        const list = MEASURE_KINDS.join(', ');
        return input === undefined ? `needs "type" (one of ${list})` : `unknown measure type ${show(input)} (expected one of ${list})`;
      }
      if (rest[0] === 'filter') return `${where} must be a string, number, boolean or null, got ${typeName(input)}`;
      return `${where}: ${issue.message}`;
    }
    case 'unrecognized_keys': {
      const keys = issue.keys.map((k) => `"${k}"`).join(', ');
      if (measureType !== undefined && rest.length === 0) return `${measureType} does not take ${keys}`;
      return `${rest.length > 0 ? `${where}: ` : ''}unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}`;
    }
    case 'invalid_value':
      return `${where} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${show(input)}`;
    case 'too_small':
    case 'too_big': {
      if (issue.origin === 'array') {
        if (issue.code === 'too_small') return `${where} must not be empty`;
        return `${where} has ${Array.isArray(input) ? input.length : '?'} entries, at most ${String(issue.maximum)} allowed${key === 'dimensions' ? ` (max ${MAX_DIMENSIONS} dimensions)` : ''}`;
      }
      if (key === 'decimals') return `"decimals" must be an integer from 0 to 6, got ${show(input)}`;
      return `${where}: ${issue.message}`;
    }
    default:
      return `${where}: ${issue.message}`;
  }
}
