import { describe, it, expect } from 'vitest';
import { parseEventLine, parseProjectedLine, validateEvent, type InvalidReason } from '../../shared/events.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { loadViews } from '../../shared/views/load.js';

const views = defaultViewSet();
const T = Date.UTC(2024, 4, 1, 12);

describe('validateEvent / parseEventLine', () => {
  it('accepts a valid pageview and converts an ISO ts', () => {
    const r = parseEventLine('{"id":"e1","ts":"2024-05-01T14:00:00+02:00","type":"pageview","url":"/a","user":"u1"}', views);
    expect(r).toEqual({
      ok: true,
      event: { id: 'e1', ts: T, body: { id: 'e1', ts: '2024-05-01T14:00:00+02:00', type: 'pageview', url: '/a', user: 'u1' } },
    });
  });

  it('accepts events no view reads, and fields of non-matching views are not checked', () => {
    // amount is only read by "revenue", whose filter is type=purchase
    expect(validateEvent({ id: 'x', ts: T, type: 'pageview', amount: 'lots', url: '/' }, views).ok).toBe(true);
    expect(validateEvent({ id: 'x', ts: T, type: 'signup', url: { nested: true } }, views).ok).toBe(true);
  });

  it('missing / null measure fields are fine (they contribute nothing)', () => {
    expect(validateEvent({ id: 'p', ts: T, type: 'purchase', country: 'DE' }, views).ok).toBe(true);
    expect(validateEvent({ id: 'p', ts: T, type: 'purchase', country: null, amount: null }, views).ok).toBe(true);
    expect(validateEvent({ id: 'p', ts: T, type: 'pageview', user: null }, views).ok).toBe(true);
  });

  const table: [string, unknown, InvalidReason, string | RegExp][] = [
    ['not JSON', '{"id": ', 'not_json', /^not valid JSON/],
    ['array', '[1,2]', 'not_object', 'event must be a JSON object, got array'],
    ['null', 'null', 'not_object', 'event must be a JSON object, got null'],
    ['number', '42', 'not_object', 'event must be a JSON object, got number'],
    ['no id', { ts: T }, 'missing_id', 'event has no "id"'],
    ['null id', { id: null, ts: T }, 'missing_id', 'event has no "id"'],
    ['numeric id', { id: 7, ts: T }, 'bad_id', '"id" must be a string, got number'],
    ['empty id', { id: '', ts: T }, 'bad_id', '"id" must not be empty'],
    ['long id', { id: 'x'.repeat(257), ts: T }, 'bad_id', /longer than 256/],
    ['no ts', { id: 'a' }, 'missing_ts', 'event has no "ts"'],
    ['null ts', { id: 'a', ts: null }, 'missing_ts', 'event has no "ts"'],
    ['zone-less ts', { id: 'a', ts: '2024-05-01T12:00:00' }, 'bad_ts', /no time zone/],
    ['fractional ts', { id: 'a', ts: 1.5 }, 'bad_ts', /integer/],
    ['negative ts', { id: 'a', ts: -5 }, 'bad_ts', /negative/],
    ['amount as string', { id: 'a', ts: T, type: 'purchase', amount: '19.99' }, 'bad_field', 'field "amount" must be a number, got string (view "revenue")'],
    ['too many decimals', { id: 'a', ts: T, type: 'purchase', amount: 1.005 }, 'bad_field', 'field "amount" has more than 2 decimals (view "revenue")'],
    ['amount with 1e-7 noise', '{"id":"a","ts":1714564800000,"type":"purchase","amount":12.340000009}', 'bad_field', 'field "amount" has more than 2 decimals (view "revenue")'],
    ['amount as a 0.1+0.2 double', '{"id":"a","ts":1714564800000,"type":"purchase","amount":0.30000000000000004}', 'bad_field', 'field "amount" has more than 2 decimals (view "revenue")'],
    ['amount as a tiny exponent', '{"id":"a","ts":1714564800000,"type":"purchase","amount":1e-7}', 'bad_field', 'field "amount" has more than 2 decimals (view "revenue")'],
    ['amount out of range', { id: 'a', ts: T, type: 'purchase', amount: 1e12 }, 'bad_field', /field "amount" is out of range .*\(view "revenue"\)/],
    ['dimension object', { id: 'a', ts: T, type: 'pageview', url: { p: '/' } }, 'bad_field', 'field "url" must be a string, number, boolean or null, got object (view "pageviews")'],
    ['dimension array', { id: 'a', ts: T, type: 'purchase', country: ['DE'] }, 'bad_field', /field "country" .* got array \(view "revenue"\)/],
    ['distinct boolean', { id: 'a', ts: T, type: 'pageview', user: true }, 'bad_field', 'field "user" must be a string or number, got boolean (view "pageviews")'],
    ['distinct object', { id: 'a', ts: T, type: 'pageview', user: {} }, 'bad_field', /field "user" must be a string or number, got object/],
  ];
  it.each(table)('%s -> %s', (_label, input, reason, message) => {
    const r = typeof input === 'string' ? parseEventLine(input, views) : validateEvent(input, views);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe(reason);
    if (typeof message === 'string') expect(r.message).toBe(message);
    else expect(r.message).toMatch(message);
  });

  it('the speed path (parseEventLine) and the batch path (parseProjectedLine) judge amounts alike, exactly', () => {
    const line = (amount: string) => `{"id":"a","ts":${T},"type":"purchase","country":"DE","amount":${amount}}`;
    for (const amount of ['12.340000009', '0.30000000000000004', '1e-7', '19.990000001', '-0.001']) {
      const speed = parseEventLine(line(amount), views);
      const batch = parseProjectedLine(line(amount), views);
      expect(speed, amount).toMatchObject({ ok: false, reason: 'bad_field', message: 'field "amount" has more than 2 decimals (view "revenue")' });
      expect(batch, amount).toEqual(speed);
    }
    for (const [amount, scaled] of [['12.34', 1234], ['19.990', 1999], ['1.5e1', 1500], ['-0.3', -30], ['1e-2', 1]] as const) {
      expect(parseEventLine(line(amount), views).ok, amount).toBe(true);
      const batch = parseProjectedLine(line(amount), views);
      expect(batch.ok && batch.projections[views.views.findIndex((v) => v.name === 'revenue')]?.measures.revenue, amount).toBe(scaled);
    }
  });

  it('id of exactly 256 characters is fine', () => {
    expect(validateEvent({ id: 'x'.repeat(256), ts: T }, views).ok).toBe(true);
  });

  it('filters compare typed values; a missing field equals null', () => {
    const vs = loadViews(
      JSON.stringify({
        views: [
          { name: 'ok200', filter: { status: 200 }, measures: { s: { type: 'sum', field: 'ms', decimals: 0 } } },
          { name: 'anon', filter: { user: null }, measures: { s: { type: 'sum', field: 'ms', decimals: 0 } } },
        ],
      }),
      'f.json',
    );
    // status "200" (a string) does not match 200, and user is present: no view checks ms
    expect(validateEvent({ id: 'a', ts: T, status: '200', user: 'u', ms: 'slow' }, vs).ok).toBe(true);
    // status 200 matches: ms must be a number
    const r1 = validateEvent({ id: 'a', ts: T, status: 200, user: 'u', ms: 'slow' }, vs);
    expect(r1.ok ? '' : r1.message).toBe('field "ms" must be a number, got string (view "ok200")');
    // user missing == null: the "anon" view applies
    const r2 = validateEvent({ id: 'a', ts: T, ms: 1.5 }, vs);
    expect(r2.ok ? '' : r2.message).toBe('field "ms" has more than 0 decimals (view "anon")');
  });
});
