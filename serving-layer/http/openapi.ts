/**
 * /openapi.json, generated from the same zod schemas that validate requests and type the answers
 * (route.ts, schemas/): requests as the server accepts them (io 'input': before defaults and
 * transforms), answers as it sends them (io 'output'), so a client can generate its types from it.
 */
import { z } from 'zod';
import type { RouteSpec } from './route.js';
import { problem } from './schemas/problem.js';

function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): unknown {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any' });
}

/** Every error is a problem (problem.ts): one schema in components, referenced by each error response. */
const problemContent = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };

function queryParameters(schema: z.ZodType | undefined): unknown[] {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, s]) => ({
    name,
    in: 'query',
    required: !s.safeParse(undefined).success,
    description: s.description,
    schema: jsonSchema(s),
  }));
}

function pathParameters(path: string): unknown[] {
  return [...path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
}

export function buildOpenApi(routes: readonly RouteSpec[], info: { title: string; version: string }): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const responses = Object.fromEntries(
      Object.entries(r.responses).map(([status, resp]) => [
        status,
        {
          description: resp.description,
          ...(resp.schema ? { content: { [resp.contentType ?? 'application/json']: { schema: jsonSchema(resp.schema, 'output') } } } : {}),
          ...(!resp.schema && Number(status) >= 400 ? { content: problemContent } : {}),
        },
      ]),
    );
    let requestBody: unknown;
    if (r.body && 'raw' in r.body) {
      requestBody = { description: r.body.description, content: Object.fromEntries(r.body.raw.split(',').map((t) => [t.trim(), {}])) };
    } else if (r.body) {
      requestBody = { content: { 'application/json': { schema: jsonSchema(r.body as z.ZodType) } } };
    }
    (paths[path] ??= {})[r.method] = {
      summary: r.summary,
      description: r.description,
      tags: [r.tag],
      parameters: [...pathParameters(r.path), ...queryParameters(r.query)],
      ...(requestBody ? { requestBody } : {}),
      ...(r.admin ? { security: [{ bearer: [] }] } : {}),
      responses: {
        ...responses,
        default: { description: 'An error, as application/problem+json (RFC 9457)', content: problemContent },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: { Problem: jsonSchema(problem, 'output') },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'LAMBDA_ADMIN_TOKEN' } },
    },
  };
}
