/** Query parameters: what resolveQuery accepts and how it names what it refuses. */
import { describe, it, expect } from 'vitest';
import { rangeQuery, resolveQuery } from '../../serving-layer/query/params.js';
import { totalsAnswer } from '../../serving-layer/query/totals.js';
import { viewSetFromDocument } from '../../shared/views/load.js';
import { isLambdaError } from '../../shared/errors.js';
import { fakeContext } from '../support/serving-fakes.js';

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
    const ctx = fakeContext(views, NOW);
    ctx.speed.rows = [
      { view: 'sales', granularity: 'hour', bucketStart: 0, dims: ['DE', 'web'], values: { orders: 1, buyers: 1 }, late: 0, duplicates: 0, unchecked: 0 },
      { view: 'sales', granularity: 'hour', bucketStart: H, dims: ['DE', 'app'], values: { orders: 1, buyers: 1 }, late: 0, duplicates: 0, unchecked: 0 },
    ];
    ctx.speed.distinct = [{ dims: ['DE', null], estimate: 7 }];
    const answer = async (groupBy: string) => (await totalsAnswer(ctx, view, resolveQuery(view, rangeQuery.parse({ groupBy, from: '0', to: String(2 * H) }), NOW))).answer;
    await expect(answer('country,country')).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/"groupBy"/) });
    const byCountry = await answer('country');
    expect(byCountry.approximate).toEqual([]);
    expect(byCountry.unavailable).toHaveProperty('buyers');
    expect(byCountry.totals).toEqual([{ dims: { country: 'DE' }, values: { orders: 2, buyers: null }, buckets: 2 }]);
  });

  it('other refusals name their parameter in invalidParams too', () => {
    expect(refusal(() => resolveQuery(view, rangeQuery.parse({ groupBy: 'colour' }), NOW)).details).toEqual({
      invalidParams: [{ parameter: 'groupBy', message: 'view "sales" has no dimension "colour"' }],
    });
    expect(refusal(() => resolveQuery(view, rangeQuery.parse({ filter: 'colour:red' }), NOW)).details).toMatchObject({ invalidParams: [{ parameter: 'filter' }] });
  });
});
