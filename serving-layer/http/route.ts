/**
 * Routes are declared as data: method, path, zod schemas for query and body, and the responses.
 * The same schemas validate requests here and generate /openapi.json (openapi.ts), so the
 * documentation cannot drift from what the server accepts; the success response's schema
 * (schemas/) types what the handler returns, so it cannot drift from what the server sends
 * (docs/design-decisions.md, "Serving layer").
 */
import express, { type Express, type Request, type Response, type RequestHandler } from 'express';
import { z } from 'zod';
import { LambdaError } from '../../shared/errors.js';
import { PreparedJson } from './prepared.js';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

export type Responses = Record<number, ResponseSpec>;

/** The schema of the success answer: the 200's, else the 202's; never when the route has neither. */
export type SuccessSchema<R> = R extends { 200: { schema: infer S extends z.ZodType } }
  ? S
  : R extends { 202: { schema: infer S extends z.ZodType } }
    ? S
    : never;

/** Read-only at every depth: a handler's answer is only serialised, so a read-only value is as good. */
export type DeepReadonly<T> = T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/**
 * What a handler may return for the success schema S: its output type (the published schema,
 * docs/design-decisions.md "Serving layer"), or the same already serialised (PreparedJson, from
 * the serving cache), or a promise of either. A route without a success schema returns anything.
 */
export type HandlerResult<S> = [S] extends [never]
  ? unknown
  : S extends z.ZodType
    ? DeepReadonly<z.output<S>> | PreparedJson<z.output<S>> | Promise<DeepReadonly<z.output<S>> | PreparedJson<z.output<S>>>
    : unknown;

export interface RouteSpec<Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType, R extends Responses = Responses> {
  method: 'get' | 'post' | 'put';
  /** Express path, e.g. /api/v1/views/:view/series. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  params?: z.ZodObject;
  query?: Q;
  /** JSON body schema (documentation + validation: the handler gets it parsed), or 'raw' for handlers that parse themselves. */
  body?: B | { raw: string; description: string };
  admin?: boolean;
  /** by status; the 200 (or 202) schema types the handler's answer and is published in /openapi.json */
  responses: R;
  /** NoInfer: R comes from `responses` alone, and the handler's answer is checked against it. */
  handler: (ctx: {
    query: z.infer<Q>;
    params: Record<string, string>;
    body: z.infer<B>;
    req: Request;
    res: Response;
  }) => NoInfer<HandlerResult<SuccessSchema<R>>>;
}

/** Checks the handler's answer against the success schema at compile time, then erases the types for the route table. */
export function defineRoute<Q extends z.ZodType, B extends z.ZodType, R extends Responses>(spec: RouteSpec<Q, B, R>): RouteSpec {
  return spec as unknown as RouteSpec;
}

/**
 * Names the parameter that is wrong, e.g. `query parameter "from": must be ...`. An unknown one
 * (a strict schema's `unrecognized_keys`) is named too, with the parameters `known` to the route:
 * a typo such as `granulariy=minute` must not silently answer for the default granularity.
 */
export function validationError(where: string, error: z.ZodError, known: readonly string[] = []): LambdaError {
  const problems = error.issues.flatMap((i) => {
    if (i.code !== 'unrecognized_keys') return [{ parameter: i.path.join('.') || '(root)', message: i.message }];
    const message = known.length > 0 ? `unknown (known: ${known.join(', ')})` : 'unknown (this route takes none)';
    return i.keys.map((key) => ({ parameter: [...i.path, key].join('.'), message }));
  });
  const text = problems.map((p) => `${where} "${p.parameter}": ${p.message}`).join('; ');
  return new LambdaError('VALIDATION', text, { details: { invalidParams: problems } });
}

/** What a route without a query schema accepts: no parameter at all (docs/design-decisions.md §7, §8). */
const NO_QUERY = z.strictObject({});

function knownParameters(schema: z.ZodType): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/** Parses a JSON body (application/json only) for routes that declare a zod body schema. */
const jsonBody = express.json({ strict: true });

export function mountRoutes(app: Express, routes: readonly RouteSpec[], adminGuard: RequestHandler): void {
  for (const route of routes) {
    const handlers: RequestHandler[] = [];
    if (route.admin) handlers.push(adminGuard);
    const bodySchema = route.body && !('raw' in route.body) ? route.body : null;
    if (bodySchema) handlers.push(jsonBody);
    handlers.push(async (req, res) => {
      const querySchema = route.query ?? NO_QUERY;
      const parsedQuery = querySchema.safeParse(req.query);
      if (!parsedQuery.success) throw validationError('query parameter', parsedQuery.error, knownParameters(querySchema));
      const query: unknown = parsedQuery.data;
      if (route.params) {
        const parsed = route.params.safeParse(req.params);
        if (!parsed.success) throw validationError('path parameter', parsed.error);
      }
      let body: unknown;
      if (bodySchema) {
        if (!req.is('application/json')) throw new LambdaError('VALIDATION', 'the body must be JSON (Content-Type: application/json)');
        const parsed = bodySchema.safeParse(req.body);
        if (!parsed.success) throw validationError('body field', parsed.error, knownParameters(bodySchema));
        body = parsed.data;
      }
      const result = await route.handler({ query, params: req.params as Record<string, string>, body, req, res });
      if (res.headersSent || result === undefined) return;
      if (result instanceof PreparedJson) {
        // The tag names what the bytes were computed from, so a client's revalidation costs no hashing.
        if (req.headers['if-none-match'] === result.etag) {
          res.status(304).set('ETag', result.etag).end();
          return;
        }
        res.set({ 'Content-Type': 'application/json; charset=utf-8', ETag: result.etag });
        res.end(result.body);
        return;
      }
      res.json(result);
    });
    app[route.method](route.path, ...handlers);
  }
}
