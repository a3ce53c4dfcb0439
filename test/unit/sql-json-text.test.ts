/**
 * The plain-line grammar and helpers of shared/sql/json-text.ts, checked in JavaScript (the
 * patterns are the RE2 / JavaScript common subset): a plain line always parses with JSON.parse
 * to a flat object.
 */
import { describe, expect, it } from 'vitest';
import { numberLiteralParts, PLAIN_OBJECT_RE } from '../../shared/sql/json-text.js';
import { hostileStream } from '../support/hostile-lines.js';

const plain = new RegExp(`^(?:${PLAIN_OBJECT_RE})$`);

describe('plain lines (shared/sql/json-text.ts)', () => {
  const lines = hostileStream(300);

  it('a plain line is a flat JSON object for JSON.parse, and most lines are plain', () => {
    let n = 0;
    for (const line of lines) {
      if (!plain.test(line)) continue;
      n++;
      const v = JSON.parse(line) as Record<string, unknown>;
      expect(typeof v === 'object' && v !== null && !Array.isArray(v), line).toBe(true);
      for (const x of Object.values(v)) expect(x === null || typeof x !== 'object', line).toBe(true);
    }
    expect(n).toBeGreaterThan(lines.length * 0.8);
  });

  it('refuses what JSON.parse refuses or reads differently from the text', () => {
    for (const line of [
      '{"a":1,}',
      '{"a":NaN}',
      "{'a':1}",
      '\ufeff{}',
      '{"a":"\\u00e9"}',
      '{"a":"\u0001"}',
      '{"a":[1]}',
      '{"a":01}',
      '{"a":.5}',
      '{"a":1.}',
      '[]',
      '{} x',
    ]) {
      expect(plain.test(line), line).toBe(false);
    }
    for (const line of ['{}', ' { } ', '\t{"a" : -0.5e+3 ,"b":"日本😀","c":true,"d":null}\t']) expect(plain.test(line), line).toBe(true);
  });

  it('numberLiteralParts: the digits and exponent of the shortest form', () => {
    expect(numberLiteralParts(2)).toEqual({ neg: false, d: '2', e: 0 });
    expect(numberLiteralParts(-0)).toEqual({ neg: false, d: '', e: 0 });
    expect(numberLiteralParts(1200)).toEqual({ neg: false, d: '12', e: 2 });
    expect(numberLiteralParts(-0.0125)).toEqual({ neg: true, d: '125', e: -4 });
    expect(numberLiteralParts(1e-7)).toEqual({ neg: false, d: '1', e: -7 });
    expect(numberLiteralParts(0.1 + 0.2)).toBeNull(); // 17 digits: no plain token equals it
    expect(numberLiteralParts(Number.NaN)).toBeNull();
  });
});
