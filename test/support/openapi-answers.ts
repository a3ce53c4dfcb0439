/**
 * Checks answers against the JSON Schemas /openapi.json publishes, with a JSON Schema validator
 * (ajv, draft 2020-12 as OpenAPI 3.1 uses), not with the zod objects they were generated from:
 * what a client generating its types would read is what is tested.
 */
import Ajv2020 from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';

export interface OpenApiDoc {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: { schemas: Record<string, unknown> };
}

/** One operation's success answer as published: the 200's (or 202's) application/json schema. */
export function successSchema(doc: OpenApiDoc, method: string, path: string): { status: number; schema: unknown } {
  const op = doc.paths[path]?.[method];
  if (!op) throw new Error(`/openapi.json has no ${method.toUpperCase()} ${path}`);
  for (const status of ['200', '202']) {
    const schema = op.responses[status]?.content?.['application/json']?.schema;
    if (schema) return { status: Number(status), schema };
  }
  throw new Error(`${method.toUpperCase()} ${path} publishes no success schema`);
}

/**
 * Paths in `schema` where an object admits fields it does not name: an object with properties
 * must say additionalProperties: false, and one without (a map) must type its values. A published
 * schema without such places makes an undocumented field fail the validation.
 */
export function openObjects(schema: unknown, at = '#'): string[] {
  if (Array.isArray(schema)) return schema.flatMap((s, i) => openObjects(s, `${at}/${i}`));
  if (typeof schema !== 'object' || schema === null) return [];
  const s = schema as Record<string, unknown>;
  const here: string[] = [];
  if (s.type === 'object') {
    const ap = s.additionalProperties;
    const closed = s.properties ? ap === false : typeof ap === 'object' && ap !== null && Object.keys(ap).length > 0;
    if (!closed) here.push(at);
  }
  return [...here, ...Object.entries(s).flatMap(([k, v]) => (k === 'additionalProperties' && v === false ? [] : openObjects(v, `${at}/${k}`)))];
}

export class AnswerValidator {
  private readonly ajv = new Ajv2020.default({ allErrors: true, strict: true, allowUnionTypes: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  /** "get /api/v1/views/{view}/series" of every operation an answer was checked for */
  readonly checked = new Set<string>();

  constructor(readonly doc: OpenApiDoc) {}

  /** ajv's complaints about `body` as the success answer of the operation ([] when it conforms). */
  errors(method: string, path: string, body: unknown): string[] {
    const key = `${method} ${path}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(successSchema(this.doc, method, path).schema as object);
      this.compiled.set(key, validate);
    }
    this.checked.add(key);
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message} ${JSON.stringify(e.params)}`);
  }

  /** The same for an application/problem+json body. */
  problemErrors(body: unknown): string[] {
    let validate = this.compiled.get('problem');
    if (!validate) {
      validate = this.ajv.compile(this.doc.components.schemas.Problem as object);
      this.compiled.set('problem', validate);
    }
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message} ${JSON.stringify(e.params)}`);
  }
}
