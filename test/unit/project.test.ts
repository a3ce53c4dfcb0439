import { describe, it, expect } from 'vitest';
import { project } from '../../shared/views/project.js';
import { validateEvent, type LambdaEvent } from '../../shared/events.js';
import { loadViews, getView } from '../../shared/views/load.js';
import type { ViewDef } from '../../shared/views/definition.js';

const vs = loadViews(
  JSON.stringify({
    views: [
      {
        name: 'shop',
        dimensions: ['country', 'mobile', 'plan'],
        filter: { type: 'purchase' },
        measures: {
          n: { type: 'count' },
          total: { type: 'sum', field: 'amount' },
          low: { type: 'min', field: 'amount', decimals: 1 },
          buyers: { type: 'distinct', field: 'user' },
        },
      },
    ],
  }),
  'p.json',
);
const shop = getView(vs, 'shop') as ViewDef;

function ev(body: Record<string, unknown>): LambdaEvent {
  const r = validateEvent({ id: 'e', ts: 0, ...body }, vs);
  if (!r.ok) throw new Error(r.message);
  return r.event;
}

describe('project', () => {
  it('returns null when the filter does not match', () => {
    expect(project(shop, ev({ type: 'pageview' }))).toBeNull();
    expect(project(shop, ev({}))).toBeNull();
  });

  it('normalises dimensions and computes contributions', () => {
    const p = project(shop, ev({ type: 'purchase', country: 'DE', mobile: true, plan: 3, amount: 19.9, user: 42 }));
    expect(p).toEqual({ dims: ['DE', 'true', '3'], measures: { n: 1, total: 1990, low: 199, buyers: '42' } });
  });

  it('missing and null become null; false stays "false"', () => {
    const p = project(shop, ev({ type: 'purchase', mobile: false, plan: null }));
    expect(p).toEqual({ dims: [null, 'false', null], measures: { n: 1, total: null, low: null, buyers: null } });
  });

  it('number and string forms of a distinct member are the same member', () => {
    const a = project(shop, ev({ type: 'purchase', user: 7 }));
    const b = project(shop, ev({ type: 'purchase', user: '7' }));
    expect(a?.measures.buyers).toBe('7');
    expect(b?.measures.buyers).toBe('7');
  });

  it('throws on an event that was not validated against this view', () => {
    const bogus: LambdaEvent = { id: 'x', ts: 0, body: { type: 'purchase', amount: '12' } };
    expect(() => project(shop, bogus)).toThrow(/field "amount" must be a number/);
  });
});
