/** Retry with capped exponential backoff and jitter; only errors flagged retriable are retried. */
import { isLambdaError } from '../shared/errors.js';

export interface RetryOptions {
  baseMs: number;
  maxMs: number;
  /** Stop retrying when this returns true (e.g. the service is stopping). */
  aborted?: () => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Which errors are worth another try; by default LambdaErrors flagged retriable. */
  isRetriable?: (err: unknown) => boolean;
  maxAttempts?: number;
}

export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const retriable = opts.isRetriable ?? ((e: unknown) => isLambdaError(e) && e.retriable);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const last = opts.maxAttempts !== undefined && attempt + 1 >= opts.maxAttempts;
      if (!retriable(err) || last || opts.aborted?.()) throw err;
      const delay = backoffDelay(attempt, opts.baseMs, opts.maxMs);
      opts.onRetry?.(err, attempt + 1, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
