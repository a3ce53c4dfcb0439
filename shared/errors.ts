/**
 * One error type for the whole service. Layers throw `LambdaError` with a stable
 * `code`; the edges translate it (HTTP -> problem+json status, CLI -> exit code,
 * consumers -> DLQ or retry). `retriable` lets callers decide between "try again"
 * (a dependency is down) and "give up / dead-letter" (the input is wrong), which
 * is what keeps a poison message from turning into a retry loop (docs/design-decisions.md §2).
 */

export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'VIEWS_INVALID'
  | 'VALIDATION'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAVAILABLE'
  | 'DEPENDENCY_DOWN'
  | 'BATCH_RUNNING'
  | 'DEDUPE_BUDGET_EXCEEDED'
  | 'STORAGE'
  | 'INTERNAL';

export const ERROR_CODES: readonly ErrorCode[] = Object.freeze([
  'CONFIG_INVALID',
  'VIEWS_INVALID',
  'VALIDATION',
  'NOT_FOUND',
  'CONFLICT',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'PAYLOAD_TOO_LARGE',
  'UNAVAILABLE',
  'DEPENDENCY_DOWN',
  'BATCH_RUNNING',
  'DEDUPE_BUDGET_EXCEEDED',
  'STORAGE',
  'INTERNAL',
]);

export interface LambdaErrorOptions {
  retriable?: boolean;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class LambdaError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: LambdaErrorOptions = {}) {
    // `cause` goes through the standard ES2022 option so stack printers show it.
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LambdaError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
    if (opts.details !== undefined) this.details = opts.details;
  }
}

/**
 * Structural as well as nominal check: an error that crossed a worker_threads
 * boundary loses its prototype but keeps `name` and `code`.
 */
export function isLambdaError(e: unknown): e is LambdaError {
  if (e instanceof LambdaError) return true;
  if (typeof e !== 'object' || e === null) return false;
  const r = e as { name?: unknown; code?: unknown };
  return r.name === 'LambdaError' && typeof r.code === 'string' && (ERROR_CODES as readonly string[]).includes(r.code);
}
