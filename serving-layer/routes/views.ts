/** The query routes: views, series, totals, drift. */
import { z } from 'zod';
import type { Response } from 'express';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { rangeQuery, resolveQuery } from '../query/params.js';
import { viewOr404 } from '../query/context.js';
import { seriesAnswer } from '../query/series.js';
import { totalsAnswer } from '../query/totals.js';
import { driftAnswer } from '../query/drift.js';
import type { ServingDeps } from '../deps.js';
import { ServingCache } from '../cache/serving-cache.js';
import { cachedSeriesAnswer } from '../cache/series-cache.js';
import { cachedDriftAnswer } from '../cache/drift-cache.js';
import { cachedTotalsAnswer } from '../cache/totals-cache.js';
import { viewDef, viewsAnswer } from '../http/schemas/views.js';
import { measureFold } from '../../shared/aggregate/measure-kinds.js';
import type { ViewDef } from '../../shared/views/definition.js';
import { seriesAnswer as seriesSchema } from '../http/schemas/series.js';
import { totalsAnswer as totalsSchema } from '../http/schemas/totals.js';
import { driftAnswer as driftSchema } from '../http/schemas/drift.js';

/** A view as the views routes answer it: each measure with its fold (shared/aggregate/measure-kinds.ts). */
function withFolds(view: ViewDef) {
  return { ...view, measures: Object.fromEntries(Object.entries(view.measures).map(([name, def]) => [name, { ...def, fold: measureFold(def) }])) };
}

const viewParam = z.object({ view: z.string().min(1) });

/** Announces incomplete answers in a header too, so a client that ignores the body still sees it. */
function markIncomplete(res: Response, count: number): void {
  if (count > 0) res.set('Lambda-Incomplete-Buckets', String(count));
}

/** States the staleness bound of the speed part, which the body's `speed.readAt` lets a client check. */
function markStaleness(res: Response, cache: ServingCache): void {
  res.set('Lambda-Speed-Max-Stale-Ms', String(cache.options.speedMaxStaleMs));
}

export function viewRoutes(deps: ServingDeps): RouteSpec[] {
  const cache = new ServingCache(deps.config.serving, deps.metrics.serving, deps.now);
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/views',
      tag: 'views',
      summary: 'List the views with their definitions',
      responses: { 200: { description: 'the view definitions, as loaded from the views file', schema: viewsAnswer } },
      handler: () => ({ source: deps.views.source, hash: deps.views.hash, views: deps.views.views.map(withFolds) }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/views/:view',
      tag: 'views',
      summary: 'One view definition',
      params: viewParam,
      responses: { 200: { description: 'the view definition', schema: viewDef }, 404: { description: 'unknown view' } },
      handler: ({ params }) => withFolds(viewOr404(deps.views, params.view!)),
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/views/:view/series',
      tag: 'views',
      summary: 'Merged series: batch buckets before the watermark boundary, speed buckets after',
      description:
        'Each bucket names its source (batch | speed). Incomplete buckets are listed in `incomplete` and counted in the Lambda-Incomplete-Buckets header.',
      params: viewParam,
      query: rangeQuery,
      responses: {
        200: { description: 'the merged series', schema: seriesSchema },
        400: { description: 'a bad parameter (named)' },
        404: { description: 'unknown view' },
      },
      handler: async ({ params, query, res }) => {
        const view = viewOr404(deps.views, params.view!);
        const rq = resolveQuery(view, query, deps.now());
        markStaleness(res, cache);
        if (cache.enabled) {
          const { body, incompleteCount } = await cachedSeriesAnswer(deps, cache, view, rq);
          markIncomplete(res, incompleteCount);
          return body;
        }
        const { answer, incompleteCount } = await seriesAnswer(deps, view, rq);
        markIncomplete(res, incompleteCount);
        return answer;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/views/:view/totals',
      tag: 'views',
      summary: 'Totals over a range: counts and sums exact; distinct as a sketch union where possible',
      params: viewParam,
      query: rangeQuery,
      responses: {
        200: { description: 'totals per group', schema: totalsSchema },
        400: { description: 'a bad parameter (named)' },
        404: { description: 'unknown view' },
      },
      handler: async ({ params, query, res }) => {
        const view = viewOr404(deps.views, params.view!);
        const rq = resolveQuery(view, query, deps.now());
        markStaleness(res, cache);
        if (cache.enabled) {
          const { body, incompleteCount } = await cachedTotalsAnswer(deps, cache, view, rq);
          markIncomplete(res, incompleteCount);
          return body;
        }
        const { answer, incompleteCount } = await totalsAnswer(deps, view, rq);
        markIncomplete(res, incompleteCount);
        return answer;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/views/:view/drift',
      tag: 'views',
      summary: 'Drift between the layers for buckets both hold, with causes; and batch-to-batch drift',
      params: viewParam,
      query: rangeQuery,
      responses: {
        200: { description: 'the drift report', schema: driftSchema },
        400: { description: 'a bad parameter (named)' },
        404: { description: 'unknown view' },
      },
      handler: async ({ params, query, res }) => {
        const view = viewOr404(deps.views, params.view!);
        const rq = resolveQuery(view, query, deps.now());
        markStaleness(res, cache);
        return cache.enabled ? cachedDriftAnswer(deps, cache, view, rq) : driftAnswer(deps, view, rq);
      },
    }),
  ];
}
