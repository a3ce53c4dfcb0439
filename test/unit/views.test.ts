import { describe, it, expect } from 'vitest';
import { loadViews, getView, viewSetFromDocument } from '../../shared/views/load.js';
import { DEFAULT_VIEWS_JSON, defaultViewSet, defaultViewsDocument } from '../../shared/views/default-views.js';
import { isLambdaError, type LambdaError } from '../../shared/errors.js';

/** The VIEWS_INVALID message for a document, or a failure if it loads. */
function errorFor(doc: unknown, source = 'views.json'): string {
  try {
    loadViews(JSON.stringify(doc), source);
  } catch (e) {
    expect(isLambdaError(e)).toBe(true);
    expect((e as LambdaError).code).toBe('VIEWS_INVALID');
    return (e as LambdaError).message;
  }
  throw new Error('expected the views file to be rejected');
}

const ok = { name: 'v', measures: { n: { type: 'count' } } };

describe('loadViews: accepted documents', () => {
  it('applies defaults and keeps measure order', () => {
    const vs = loadViews(JSON.stringify({ views: [{ name: 'shop', measures: { b: { type: 'sum', field: 'amount' }, a: { type: 'count' } } }] }), 'x.json');
    const v = getView(vs, 'shop');
    expect(v).toBeDefined();
    expect(v?.dimensions).toEqual([]);
    expect(v?.filter).toEqual({});
    expect(v?.granularities).toEqual(['minute', 'hour', 'day']);
    expect(v?.measures.b).toEqual({ type: 'sum', field: 'amount', decimals: 2 });
    expect(Object.keys(v?.measures ?? {})).toEqual(['b', 'a']);
    expect(vs.source).toBe('x.json');
  });

  it('is deeply frozen', () => {
    const vs = defaultViewSet();
    expect(Object.isFrozen(vs)).toBe(true);
    expect(Object.isFrozen(vs.views)).toBe(true);
    const v = vs.views[0];
    expect(v && Object.isFrozen(v) && Object.isFrozen(v.dimensions) && Object.isFrozen(v.filter)).toBe(true);
    expect(v && Object.isFrozen(v.measures) && Object.values(v.measures).every(Object.isFrozen)).toBe(true);
    expect(() => {
      (v?.dimensions as string[]).push('x');
    }).toThrow(TypeError);
  });

  it('getView does not find prototype properties', () => {
    const vs = defaultViewSet();
    expect(getView(vs, 'constructor')).toBeUndefined();
    expect(getView(vs, '__proto__')).toBeUndefined();
    expect(getView(vs, 'pageviews')?.name).toBe('pageviews');
  });

  it('default set matches the contract and its JSON text', () => {
    const vs = defaultViewSet();
    expect(vs.views.map((v) => v.name)).toEqual(['pageviews', 'revenue']);
    const pv = getView(vs, 'pageviews');
    expect(pv?.dimensions).toEqual(['url']);
    expect(pv?.filter).toEqual({ type: 'pageview' });
    expect(pv?.measures).toEqual({ views: { type: 'count' }, visitors: { type: 'distinct', field: 'user' } });
    const rev = getView(vs, 'revenue');
    expect(rev?.dimensions).toEqual(['country']);
    expect(rev?.filter).toEqual({ type: 'purchase' });
    expect(rev?.measures).toEqual({
      purchases: { type: 'count' },
      revenue: { type: 'sum', field: 'amount', decimals: 2 },
      max_order: { type: 'max', field: 'amount', decimals: 2 },
    });
    for (const v of vs.views) expect(v.granularities).toEqual(['minute', 'hour', 'day']);
    expect(JSON.parse(DEFAULT_VIEWS_JSON)).toEqual(defaultViewsDocument);
    expect(loadViews(DEFAULT_VIEWS_JSON, 'default.json').hash).toBe(vs.hash);
  });

  it('hash ignores key order but not meaning', () => {
    const a = viewSetFromDocument({ views: [{ name: 'v', dimensions: ['x'], measures: { n: { type: 'count' } } }] }, 'a');
    const b = viewSetFromDocument({ views: [{ measures: { n: { type: 'count' } }, dimensions: ['x'], name: 'v' }] }, 'b');
    const c = viewSetFromDocument({ views: [{ name: 'v', dimensions: ['y'], measures: { n: { type: 'count' } } }] }, 'c');
    expect(a.hash).toBe(b.hash);
    expect(a.hash).not.toBe(c.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('loadViews: error messages name file, view and field', () => {
  const cases: [string, unknown, string | RegExp][] = [
    [
      'sum without field',
      { views: [{ name: 'revenue', measures: { total: { type: 'sum' } } }] },
      'views.json: view "revenue": measure "total": sum needs "field"',
    ],
    ['min without field', { views: [{ name: 'revenue', measures: { low: { type: 'min' } } }] }, 'views.json: view "revenue": measure "low": min needs "field"'],
    [
      'distinct without field',
      { views: [{ name: 'pv', measures: { u: { type: 'distinct' } } }] },
      'views.json: view "pv": measure "u": distinct needs "field"',
    ],
    [
      'unknown measure type',
      { views: [{ name: 'revenue', measures: { median: { type: 'median', field: 'amount' } } }] },
      /^views\.json: view "revenue": measure "median": unknown measure type "median" \(expected one of count, sum, min, max, distinct, avg\)$/,
    ],
    ['measure without type', { views: [{ name: 'revenue', measures: { x: {} } }] }, /view "revenue": measure "x": needs "type"/],
    [
      'count with a field',
      { views: [{ name: 'v', measures: { n: { type: 'count', field: 'x' } } }] },
      'views.json: view "v": measure "n": count does not take "field"',
    ],
    [
      'distinct with decimals',
      { views: [{ name: 'v', measures: { n: { type: 'distinct', field: 'x', decimals: 2 } } }] },
      /measure "n": distinct does not take "decimals"/,
    ],
    [
      'decimals out of range',
      { views: [{ name: 'v', measures: { s: { type: 'sum', field: 'x', decimals: 7 } } }] },
      'views.json: view "v": measure "s": "decimals" must be an integer from 0 to 6, got 7',
    ],
    [
      'decimals not integer',
      { views: [{ name: 'v', measures: { s: { type: 'sum', field: 'x', decimals: 1.5 } } }] },
      /measure "s": "decimals" must be an integer, got 1\.5/,
    ],
    ['bad view name', { views: [{ ...ok, name: 'Page-Views' }] }, /^views\.json: view "Page-Views": "name" is not a valid name/],
    ['missing view name', { views: [{ measures: { n: { type: 'count' } } }] }, 'views.json: view #0: needs "name"'],
    [
      'bad measure name',
      { views: [{ name: 'v', measures: { Total: { type: 'count' } } }] },
      /^views\.json: view "v": measure "Total": is not a valid measure name/,
    ],
    [
      'bad dimension field',
      { views: [{ ...ok, dimensions: ['url', 'user-agent'] }] },
      /view "v": "dimensions\[1\]" is not a valid field name .* got "user-agent"/,
    ],
    [
      'too many dimensions',
      { views: [{ ...ok, dimensions: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] }] },
      /view "v": "dimensions" has 9 entries, at most 8/,
    ],
    ['duplicate dimension', { views: [{ ...ok, dimensions: ['url', 'url'] }] }, 'views.json: view "v": dimension "url" is listed twice'],
    [
      'filter with object value',
      { views: [{ ...ok, filter: { type: { eq: 1 } } }] },
      /view "v": "filter.type" must be a string, number, boolean or null, got object/,
    ],
    [
      'unknown granularity',
      { views: [{ ...ok, granularities: ['minute', 'week'] }] },
      /view "v": "granularities\[1\]" must be one of "minute", "hour", "day", got "week"/,
    ],
    ['empty granularities', { views: [{ ...ok, granularities: [] }] }, /view "v": "granularities" must not be empty/],
    ['no measures', { views: [{ name: 'v', measures: {} }] }, 'views.json: view "v": needs at least one measure'],
    ['misspelt key', { views: [{ ...ok, dimension: ['url'] }] }, 'views.json: view "v": unknown key "dimension"'],
    ['duplicate view', { views: [ok, { name: 'w', measures: { n: { type: 'count' } } }, ok] }, 'views.json: view "v": duplicate view name (views #0 and #2)'],
    ['empty views', { views: [] }, 'views.json: "views" must not be empty'],
    ['no views key', {}, 'views.json: needs "views"'],
    ['views not an array', { views: {} }, /"views" must be an array, got object/],
  ];
  it.each(cases)('%s', (_label, doc, want) => {
    const msg = errorFor(doc);
    if (typeof want === 'string') expect(msg).toBe(want);
    else expect(msg).toMatch(want);
  });

  it('names the source and counts further problems; details list them all', () => {
    let err: LambdaError | undefined;
    try {
      loadViews(JSON.stringify({ views: [{ name: 'a', measures: { x: { type: 'sum' }, y: { type: 'max' } } }] }), '/etc/my-views.json');
    } catch (e) {
      err = e as LambdaError;
    }
    expect(err?.message).toBe('/etc/my-views.json: view "a": measure "x": sum needs "field" (and 1 more problem)');
    expect(err?.details?.problems).toEqual(['view "a": measure "x": sum needs "field"', 'view "a": measure "y": max needs "field"']);
  });

  it('reports invalid JSON', () => {
    expect(() => loadViews('{"views": [', 'views.json')).toThrow(/^views\.json: not valid JSON/);
  });
});
