import { describe, it, expect } from 'vitest';
import { LambdaError, isLambdaError } from '../../shared/errors.js';

describe('LambdaError', () => {
  it('carries code, retriable, details and cause', () => {
    const cause = new Error('socket closed');
    const e = new LambdaError('DEPENDENCY_DOWN', 'redis is down', { retriable: true, details: { host: 'r' }, cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('LambdaError');
    expect(e.code).toBe('DEPENDENCY_DOWN');
    expect(e.retriable).toBe(true);
    expect(e.details).toEqual({ host: 'r' });
    expect(e.cause).toBe(cause);
    expect(new LambdaError('VALIDATION', 'x').retriable).toBe(false);
  });

  it('isLambdaError', () => {
    expect(isLambdaError(new LambdaError('INTERNAL', 'x'))).toBe(true);
    expect(isLambdaError(new Error('x'))).toBe(false);
    expect(isLambdaError(null)).toBe(false);
    expect(isLambdaError({ name: 'LambdaError', code: 'NOT_FOUND', message: 'x' })).toBe(true);
    expect(isLambdaError({ name: 'LambdaError', code: 'WHATEVER' })).toBe(false);
  });
});
