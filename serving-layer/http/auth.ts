/** Admin actions need `Authorization: Bearer <LAMBDA_ADMIN_TOKEN>` (docs/design-decisions.md §8). */
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { LambdaError } from '../../shared/errors.js';

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function requireAdmin(token: string | null): RequestHandler {
  return (req, _res, next) => {
    if (token === null) {
      throw new LambdaError('FORBIDDEN', 'admin actions are disabled: set LAMBDA_ADMIN_TOKEN to enable them');
    }
    const header = req.get('authorization');
    if (!header) throw new LambdaError('UNAUTHORIZED', 'missing Authorization: Bearer <token> header');
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) throw new LambdaError('UNAUTHORIZED', 'Authorization header must be "Bearer <token>"');
    if (!same(match[1]!.trim(), token)) throw new LambdaError('FORBIDDEN', 'the bearer token is not the admin token');
    next();
  };
}
