import { describe, it, expect } from 'vitest';
import { MAX_EVENT_DEPTH, MAX_VALUE_LENGTH, parseEventLine, parseProjectedLine, validateEvent, type InvalidReason } from '../../shared/events.js';
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
    ['long id', { id: 'x'.repeat(257), ts: T }, 'bad_id', '"id" is 257 characters long; at most 256'],
    ['no ts', { id: 'a' }, 'missing_ts', 'event has no "ts"'],
    ['null ts', { id: 'a', ts: null }, 'missing_ts', 'event has no "ts"'],
    ['zone-less ts', { id: 'a', ts: '2024-05-01T12:00:00' }, 'bad_ts', /no time zone/],
    ['fractional ts', { id: 'a', ts: 1.5 }, 'bad_ts', /integer/],
    ['negative ts', { id: 'a', ts: -5 }, 'bad_ts', /negative/],
    ['amount as string', { id: 'a', ts: T, type: 'purchase', amount: '19.99' }, 'bad_field', 'field "amount" must be a number, got string (view "revenue")'],
    ['too many decimals', { id: 'a', ts: T, type: 'purchase', amount: 1.005 }, 'bad_field', 'field "amount" has more than 2 decimals (view "revenue")'],
    [
      'amount with 1e-7 noise',
      '{"id":"a","ts":1714564800000,"type":"purchase","amount":12.340000009}',
      'bad_field',
      'field "amount" has more than 2 decimals (view "revenue")',
    ],
    [
      'amount as a 0.1+0.2 double',
      '{"id":"a","ts":1714564800000,"type":"purchase","amount":0.30000000000000004}',
      'bad_field',
      'field "amount" has more than 2 decimals (view "revenue")',
    ],
    [
      'amount as a tiny exponent',
      '{"id":"a","ts":1714564800000,"type":"purchase","amount":1e-7}',
      'bad_field',
      'field "amount" has more than 2 decimals (view "revenue")',
    ],
    ['amount out of range', { id: 'a', ts: T, type: 'purchase', amount: 1e12 }, 'bad_field', /field "amount" is out of range .*\(view "revenue"\)/],
    [
      'dimension object',
      { id: 'a', ts: T, type: 'pageview', url: { p: '/' } },
      'bad_field',
      'field "url" must be a string, number, boolean or null, got object (view "pageviews")',
    ],
    ['dimension array', { id: 'a', ts: T, type: 'purchase', country: ['DE'] }, 'bad_field', /field "country" .* got array \(view "revenue"\)/],
    [
      'distinct boolean',
      { id: 'a', ts: T, type: 'pageview', user: true },
      'bad_field',
      'field "user" must be a string or number, got boolean (view "pageviews")',
    ],
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
    for (const [amount, scaled] of [
      ['12.34', 1234],
      ['19.990', 1999],
      ['1.5e1', 1500],
      ['-0.3', -30],
      ['1e-2', 1],
    ] as const) {
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

/** `{"id":…,"ts":…,"type":…,"<field>": [[…]]}` with `brackets` arrays around `inner`: the event is 1 + brackets levels deep. */
function nestedLine(brackets: number, field = 'x', type = 'pageview', inner = ''): string {
  return `{"id":"deep","ts":${T},"type":"${type}","url":"/a","${field}":${'['.repeat(brackets)}${inner}${']'.repeat(brackets)}}`;
}

describe('limits (docs/design-decisions.md §2): every layer refuses the same hostile events with bad_field', () => {
  it('an event nested 5,000 arrays deep is bad_field naming the field, without overflowing the stack', () => {
    for (const type of ['pageview', 'signup']) {
      // signup: no view reads the event, the depth limit still holds (the ingest route serialises it).
      const r = parseEventLine(nestedLine(5000, 'x', type), views);
      expect(r).toEqual({
        ok: false,
        reason: 'bad_field',
        message: 'field "x" nests arrays or objects more than 32 levels deep (the event is level 1); at most 32',
      });
    }
    // Objects count like arrays, and the deep part may sit anywhere under the field.
    const objects = `{"id":"d","ts":${T},"meta":{"a":[1,2,{"b":${'{"c":'.repeat(5000)}1${'}'.repeat(5000)}}]}}`;
    expect(parseEventLine(objects, views)).toMatchObject({ ok: false, reason: 'bad_field', message: expect.stringMatching(/^field "meta" nests/) });
  });

  it('the event itself is level 1: 32 levels pass, 33 do not', () => {
    expect(MAX_EVENT_DEPTH).toBe(32);
    expect(parseEventLine(nestedLine(31), views).ok).toBe(true);
    expect(parseEventLine(nestedLine(31, 'x', 'pageview', '{"k":1}'), views).ok).toBe(false);
    expect(parseEventLine(nestedLine(32), views)).toMatchObject({ ok: false, reason: 'bad_field' });
  });

  it('a cyclic object (possible only in code) ends as too deep instead of looping', () => {
    const body: Record<string, unknown> = { id: 'c', ts: T };
    body.self = body;
    expect(validateEvent(body, views)).toMatchObject({ ok: false, reason: 'bad_field', message: expect.stringMatching(/^field "self" nests/) });
  });

  it('a deep id or ts keeps its own reason (nothing walks it)', () => {
    expect(validateEvent({ id: JSON.parse('['.repeat(5000) + ']'.repeat(5000)), ts: T }, views)).toMatchObject({ ok: false, reason: 'bad_id' });
    expect(validateEvent({ id: 'a', ts: JSON.parse('['.repeat(5000) + ']'.repeat(5000)) }, views)).toMatchObject({ ok: false, reason: 'bad_ts' });
  });

  it('a 500,000-character dimension value is bad_field naming the field; 1,024 characters pass', () => {
    expect(MAX_VALUE_LENGTH).toBe(1024);
    const url = (n: number) => ({ id: 'u', ts: T, type: 'pageview', url: `/${'x'.repeat(n - 1)}`, user: 'u1' });
    expect(validateEvent(url(500_000), views)).toEqual({
      ok: false,
      reason: 'bad_field',
      message: 'field "url" is 500000 characters long; at most 1024 (view "pageviews")',
    });
    expect(validateEvent(url(1025), views)).toMatchObject({ ok: false, reason: 'bad_field' });
    expect(validateEvent(url(1024), views).ok).toBe(true);
  });

  it('a distinct member has the same length limit', () => {
    expect(validateEvent({ id: 'u', ts: T, type: 'pageview', url: '/', user: 'u'.repeat(1025) }, views)).toEqual({
      ok: false,
      reason: 'bad_field',
      message: 'field "user" is 1025 characters long; at most 1024 (view "pageviews")',
    });
  });

  const numbers: [string, string, string][] = [
    ['an amount of 1e400 (Infinity)', '"type":"purchase","country":"DE","amount":1e400', 'field "amount" is not a finite number (view "revenue")'],
    [
      'an amount of 1e300',
      '"type":"purchase","country":"DE","amount":1e300',
      'field "amount" is out of range (|value| must be at most 87960930222.07 at 2 decimals) (view "revenue")',
    ],
    [
      'an amount past 2^53',
      '"type":"purchase","country":"DE","amount":9007199254740993',
      'field "amount" is out of range (|value| must be at most 87960930222.07 at 2 decimals) (view "revenue")',
    ],
    ['a dimension of 1e400', '"type":"pageview","url":1e400', 'field "url" must be a finite number, got Infinity (view "pageviews")'],
    [
      'a dimension past 2^53',
      '"type":"purchase","country":12345678901234567891',
      'field "country" is 12345678901234567000, beyond ±9007199254740991 where JSON numbers lose digits; send it as a string (view "revenue")',
    ],
    [
      'a distinct member past 2^53',
      '"type":"pageview","url":"/","user":9007199254740993',
      'field "user" is 9007199254740992, beyond ±9007199254740991 where JSON numbers lose digits; send it as a string (view "pageviews")',
    ],
  ];
  it.each(numbers)('%s is bad_field naming the field', (_label, fields, message) => {
    expect(parseEventLine(`{"id":"n","ts":${T},${fields}}`, views)).toEqual({ ok: false, reason: 'bad_field', message });
  });

  it('the largest exact numbers still pass, and 7 and "7" stay one member', () => {
    const r = parseProjectedLine(`{"id":"n","ts":${T},"type":"pageview","url":-9007199254740991,"user":9007199254740991}`, views);
    expect(r.ok && r.projections[0]).toEqual({ dims: ['-9007199254740991'], measures: { views: 1, visitors: '9007199254740991' } });
  });

  it('the speed/archiver path (parseEventLine), the batch path (parseProjectedLine) and ingest (validateEvent) agree', () => {
    const hostile = [
      nestedLine(5000),
      JSON.stringify({ id: 'h1', ts: T, type: 'pageview', url: 'u'.repeat(500_000) }),
      `{"id":"h2","ts":${T},"type":"purchase","country":"DE","amount":1e400}`,
    ];
    for (const line of hostile) {
      const speed = parseEventLine(line, views);
      expect(speed).toMatchObject({ ok: false, reason: 'bad_field' });
      expect(parseProjectedLine(line, views)).toEqual(speed);
      expect(validateEvent(JSON.parse(line), views)).toEqual(speed);
    }
  });
});

describe('storable text (issue 15): no U+0000, no lone surrogate in the id or a string a view keeps', () => {
  const T = Date.UTC(2024, 4, 1);
  it.each([
    ['"\\u0000"', 'bad_id'],
    ['"a\\u0000b"', 'bad_id'],
    ['"\\ud800"', 'bad_id'],
    ['"x\\udfff"', 'bad_id'],
  ])('id %s is %s', (id, reason) => {
    expect(parseEventLine(`{"id":${id},"ts":${T}}`, views)).toMatchObject({ ok: false, reason, message: expect.stringMatching(/U\+0000 or a lone surrogate/) });
  });

  it.each(['"\\u0000"', '"\\udbff"', '"\\ud83d"'])('dimension or member %s is bad_field naming the field', (v) => {
    expect(parseEventLine(`{"id":"s","ts":${T},"type":"pageview","url":${v}}`, views)).toMatchObject({
      ok: false,
      reason: 'bad_field',
      message: expect.stringMatching(/^field "url" holds U\+0000/),
    });
    expect(parseEventLine(`{"id":"s","ts":${T},"type":"pageview","url":"/","user":${v}}`, views)).toMatchObject({
      ok: false,
      reason: 'bad_field',
      message: expect.stringMatching(/^field "user"/),
    });
  });

  it('paired surrogates (astral characters) and escapes of other characters stay valid', () => {
    const r = parseProjectedLine(`{"id":"\\ud83d\\ude00","ts":${T},"type":"pageview","url":"\\u00e9\\u2028","user":"😀"}`, views);
    expect(r.ok && r.event.id).toBe('😀');
    expect(r.ok && r.projections[0]).toEqual({ dims: ['é\u2028'], measures: { views: 1, visitors: '😀' } });
    // Fields no view reads are not judged.
    expect(parseEventLine(`{"id":"s","ts":${T},"note":"\\ud800\\u0000"}`, views)).toMatchObject({ ok: true });
  });
});
