/**
 * Errors: RFC 9457 application/problem+json (serving-layer/http/problem.ts). Open: a problem may
 * carry more details than the ones listed (e.g. `checks` of /readyz), as RFC 9457 allows.
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../../../shared/errors.js';
import { rejectedRecord } from './ingest.js';

const errorCode = z.enum(ERROR_CODES as readonly ErrorCode[] as [ErrorCode, ...ErrorCode[]]).describe('stable error code');

export const problem = z.looseObject({
  type: z.string().describe('urn:lambda-arch:error:<code in lower case>'),
  title: errorCode,
  status: z.int().min(400).max(599).describe('the HTTP status'),
  code: errorCode,
  detail: z.string().describe('what is wrong, naming the parameter or the record'),
  instance: z.string().optional().describe('the request path and query'),
  invalidParams: z
    .array(z.strictObject({ parameter: z.string().describe('the parameter, e.g. from'), message: z.string() }))
    .optional()
    .describe('VALIDATION: each bad parameter'),
  rejected: z.array(rejectedRecord).optional().describe('ingest with no valid event: each record rejected (the first 1000)'),
});

export type Problem = z.infer<typeof problem>;
