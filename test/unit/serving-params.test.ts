/** Query parameters: what resolveQuery accepts and how it names what it refuses. */
import { describe, it, expect } from 'vitest';
import { rangeQuery, resolveQuery } from '../../serving-layer/query/params.js';
import { totalsAnswer } from '../../serving-layer/query/totals.js';
import { viewSetFromDocument } from '../../shared/views/load.js';
import { isLambdaError } from '../../shared/errors.js';
import { validationError } from '../../serving-layer/http/route.js';
import { fakeContext, fakeSketch } from '../support/serving-fakes.js';

const views = viewSetFromDocument(
  {
    views: [
      {
        name: 'sales',
        dimensions: ['country', 'channel'],
        measures: { orders: { type: 'count' }, buyers: { type: 'distinct', field: 'user' } },
        granularities: ['hour'],
      },
    ],
  },
  'test',
);
const view = views.byName.sales!;
const H = 3_600_000;
const NOW = 100 * H;

function refusal(fn: () => unknown): { code: string; message: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    if (isLambdaError(err)) return { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
    throw err;
  }
  throw new Error('expected a refusal, got an answer');
}

describe('groupBy', () => {
  it('a repeated dimension is refused with a 400 naming the parameter and the dimension', () => {
    for (const groupBy of ['country,country', 'country, channel,country']) {
      const r = refusal(() => resolveQuery(view, rangeQuery.parse({ groupBy }), NOW));
      expect(r.code).toBe('VALIDATION');
      expect(r.message).toMatch(/^query parameter "groupBy": dimension "country" is listed more than once/);
      expect(r.details).toEqual({ invalidParams: [{ parameter: 'groupBy', message: expect.stringMatching(/"country" is listed more than once/) }] });
    }
  });

  it('so a distinct total cannot be passed off as a sketch union of the full dimensions (hole 5)', async () => {
    // Before the fix, groupBy=country,country counted as "every dimension" (2 == 2) and the
    // distinct total came back "approximate" from per-(country, channel) sketches it never had.
    // Now a distinct total of fewer dimensions is the union of the stored groups' own sketches.
    const ctx = fakeContext(views, NOW);
    ctx.speed.rows = [
      { view: 'sales', granularity: 'hour', bucketStart: 0, dims: ['DE', 'web'], values: { orders: 2, buyers: 2 }, late: 0, duplicates: 0, unchecked: 0 },
      { view: 'sales', granularity: 'hour', bucketStart: H, dims: ['DE', 'app'], values: { orders: 2, buyers: 2 }, late: 0, duplicates: 0, unchecked: 0 },
    ];
    ctx.speed.sketches = [
      fakeSketch('sales', 'hour', 'buyers', 0, ['DE', 'web'], ['a', 'b']),
      fakeSketch('sales', 'hour', 'buyers', H, ['DE', 'app'], ['b', 'c']),
    ];
    const answer = async (groupBy: string) =>
      (await totalsAnswer(ctx, view, resolveQuery(view, rangeQuery.parse({ groupBy, from: '0', to: String(2 * H) }), NOW))).answer;
    await expect(answer('country,country')).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/"groupBy"/) });
    const byCountry = await answer('country');
    expect(byCountry.approximate).toEqual(['buyers']);
    expect(byCountry.unavailable).toEqual({});
    expect(byCountry.totals).toEqual([{ dims: { country: 'DE' }, values: { orders: 4, buyers: 3 }, buckets: 2, approximate: ['buyers'] }]);
  });

  it('other refusals name their parameter in invalidParams too', () => {
    expect(refusal(() => resolveQuery(view, rangeQuery.parse({ groupBy: 'colour' }), NOW)).details).toEqual({
      invalidParams: [{ parameter: 'groupBy', message: 'view "sales" has no dimension "colour"' }],
    });
    expect(refusal(() => resolveQuery(view, rangeQuery.parse({ filter: 'colour:red' }), NOW)).details).toMatchObject({
      invalidParams: [{ parameter: 'filter' }],
    });
  });
});

/** The 400 route.ts makes of a schema refusal: message and invalidParams. */
function queryRefusal(raw: Record<string, unknown>): { message: string; invalidParams: unknown } {
  const parsed = rangeQuery.safeParse(raw);
  if (parsed.success) throw new Error(`expected a refusal of ${JSON.stringify(raw)}`);
  const err = validationError('query parameter', parsed.error, Object.keys(rangeQuery.shape));
  return { message: err.message, invalidParams: err.details?.invalidParams };
}

describe('hostile query parameters (issue 14)', () => {
  it('an unknown parameter is refused, named, with the known ones', () => {
    const known = 'granularity, from, to, filter, groupBy, limit, measures';
    expect(queryRefusal({ granulariy: 'minute' })).toEqual({
      message: `query parameter "granulariy": unknown (known: ${known})`,
      invalidParams: [{ parameter: 'granulariy', message: `unknown (known: ${known})` }],
    });
    expect(queryRefusal({ foo: '1', bar: '2', granularity: 'hour' }).invalidParams).toEqual([
      { parameter: 'foo', message: expect.stringMatching(/^unknown/) },
      { parameter: 'bar', message: expect.stringMatching(/^unknown/) },
    ]);
  });

  it('huge or malformed numbers in from, to and limit are refused naming the parameter', () => {
    expect(queryRefusal({ from: '1e400' }).message).toMatch(/^query parameter "from": must be epoch milliseconds .*"1e400" is not an ISO-8601/);
    expect(queryRefusal({ to: '99999999999999999999' }).message).toMatch(
      /^query parameter "to": must be epoch milliseconds or ISO-8601 with a zone \(is beyond the year 9999/,
    );
    for (const limit of ['99999999999', '1e400', '0', '1.5', 'lots', '-3']) {
      expect(queryRefusal({ limit }), limit).toEqual({
        message: 'query parameter "limit": must be a whole number from 1 to 10000',
        invalidParams: [{ parameter: 'limit', message: 'must be a whole number from 1 to 10000' }],
      });
    }
    expect(rangeQuery.parse({ limit: '10000' }).limit).toBe(10_000);
  });

  it('a filter value longer than any stored dimension value is refused naming "filter"', () => {
    const q = (value: string) => resolveQuery(view, rangeQuery.parse({ filter: `country:${value}`, from: '0', to: String(H) }), NOW);
    expect(q('x'.repeat(1024)).filter).toEqual({ country: 'x'.repeat(1024) });
    expect(refusal(() => q('x'.repeat(1025)))).toEqual({
      code: 'VALIDATION',
      message: 'query parameter "filter": the value for dimension "country" is 1025 characters long; at most 1024',
      details: { invalidParams: [{ parameter: 'filter', message: 'the value for dimension "country" is 1025 characters long; at most 1024' }] },
    });
  });

  it('a dimension filtered twice is refused, not overwritten by the last value', () => {
    const r = refusal(() => resolveQuery(view, rangeQuery.parse({ filter: ['country:DE', 'channel:web', 'country:FR'] }), NOW));
    expect(r.message).toBe('query parameter "filter": dimension "country" is filtered more than once');
    expect(resolveQuery(view, rangeQuery.parse({ filter: ['country:DE', 'channel:web'] }), NOW).filter).toEqual({ country: 'DE', channel: 'web' });
  });
});
