import { describe, expect, it } from 'vitest';
import { viewsDocumentText } from '../../batch-layer/run/views-text.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { loadViews } from '../../shared/views/load.js';

describe('views as text for workers and run files', () => {
  it('re-loads to the same definitions and hash (defaults filled in)', () => {
    const custom = loadViews(
      JSON.stringify({
        views: [{ name: 'v', dimensions: ['a'], filter: { k: null, n: 1 }, measures: { s: { type: 'sum', field: 'x' }, d: { type: 'distinct', field: 'u' } } }],
      }),
      'custom.json',
    );
    for (const views of [defaultViewSet(), custom]) {
      const again = loadViews(viewsDocumentText(views), 'again');
      expect(again.hash).toBe(views.hash);
      expect(again.views).toEqual(views.views);
    }
    expect(JSON.parse(viewsDocumentText(custom)).views[0].measures.s).toEqual({ type: 'sum', field: 'x', decimals: 2 });
  });
});
