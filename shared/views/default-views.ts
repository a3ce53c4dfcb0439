/**
 * The built-in view set: a clickstream as in Marz & Warren's SuperWebAnalytics.com.
 * Kept as a TS object (not a file read at runtime) so `shared/` needs no fs;
 * `DEFAULT_VIEWS_JSON` is the same document as text, for `lambda-arch views
 * --print-default` style tooling and for users who want a starting file.
 */
import type { ViewSet, ViewsDocument } from './definition.js';
import { viewSetFromDocument } from './load.js';

export const defaultViewsDocument = {
  views: [
    {
      name: 'pageviews',
      description: 'Pageviews and unique visitors per URL',
      dimensions: ['url'],
      filter: { type: 'pageview' },
      measures: {
        views: { type: 'count' },
        visitors: { type: 'distinct', field: 'user' },
      },
      granularities: ['minute', 'hour', 'day'],
    },
    {
      name: 'revenue',
      description: 'Purchases and revenue per country',
      dimensions: ['country'],
      filter: { type: 'purchase' },
      measures: {
        purchases: { type: 'count' },
        revenue: { type: 'sum', field: 'amount', decimals: 2 },
        max_order: { type: 'max', field: 'amount', decimals: 2 },
      },
      granularities: ['minute', 'hour', 'day'],
    },
  ],
} as const satisfies ViewsDocument;

export const DEFAULT_VIEWS_JSON: string = `${JSON.stringify(defaultViewsDocument, null, 2)}\n`;

export const DEFAULT_VIEWS_SOURCE = '(built-in default views)';

let cached: ViewSet | undefined;

/** The validated default ViewSet (validated once; it is frozen, so sharing is safe). */
export function defaultViewSet(): ViewSet {
  cached ??= viewSetFromDocument(defaultViewsDocument, DEFAULT_VIEWS_SOURCE);
  return cached;
}
