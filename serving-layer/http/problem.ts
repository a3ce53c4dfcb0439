/**
 * The one place where errors become HTTP: RFC 9457 `application/problem+json`. Everything below
 * the edge throws LambdaError with a code; this maps the code to a status exactly once.
 */
import type { ErrorRequestHandler, Response } from 'express';
import { isLambdaError, type ErrorCode } from '../../shared/errors.js';
import type { Logger } from '../../platform/logger.js';

const STATUS: Record<ErrorCode, number> = {
  VALIDATION: 400,
  VIEWS_INVALID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  BATCH_RUNNING: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNAVAILABLE: 503,
  DEPENDENCY_DOWN: 503,
  CONFIG_INVALID: 500,
  DEDUPE_BUDGET_EXCEEDED: 500,
  STORAGE: 500,
  INTERNAL: 500,
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  [extra: string]: unknown;
}

export function sendProblem(res: Response, p: Problem): void {
  res.status(p.status).type('application/problem+json').send(JSON.stringify(p));
}

function toProblem(err: unknown): Problem {
  if (isLambdaError(err)) {
    const status = STATUS[err.code];
    return { type: `urn:lambda-arch:error:${err.code.toLowerCase()}`, title: err.code, status, detail: err.message, code: err.code, ...err.details };
  }
  // express's own errors: body-parser's size and syntax errors carry `type` and `status`.
  const e = err as { type?: string; status?: number; message?: string; limit?: number };
  if (e?.type === 'entity.too.large') {
    return {
      type: 'urn:lambda-arch:error:payload_too_large',
      title: 'PAYLOAD_TOO_LARGE',
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      detail: `request body is larger than the limit of ${e.limit} bytes`,
    };
  }
  if (e?.type === 'entity.parse.failed') {
    return {
      type: 'urn:lambda-arch:error:validation',
      title: 'VALIDATION',
      status: 400,
      code: 'VALIDATION',
      detail: `request body is not valid JSON: ${e.message}`,
    };
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return { type: 'urn:lambda-arch:error:validation', title: 'VALIDATION', status: e.status, code: 'VALIDATION', detail: e.message ?? 'bad request' };
  }
  return { type: 'urn:lambda-arch:error:internal', title: 'INTERNAL', status: 500, code: 'INTERNAL', detail: 'internal error (see the server log)' };
}

export function problemHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const problem = toProblem(err);
    if (problem.status >= 500) log.error({ err, path: req.path }, 'request failed');
    if (res.headersSent) return;
    if (problem.status === 401) res.set('WWW-Authenticate', 'Bearer realm="lambda-arch"');
    sendProblem(res, { ...problem, instance: req.originalUrl });
  };
}
