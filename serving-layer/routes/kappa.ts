/**
 * The Kappa rebuild's two routes (issue 20; docs/design-decisions.md, "Lambda vs Kappa"): start
 * one (admin: it writes a whole copy of the speed views into Redis and reads the whole log), and
 * follow it. The rebuild itself runs where the CLI wires it (cli/kappa/), behind KappaControl.
 */
import { defineRoute, type RouteSpec } from '../http/route.js';
import { LambdaError } from '../../shared/errors.js';
import type { ServingDeps } from '../deps.js';
import { kappaRequest, kappaStarted, kappaState } from '../http/schemas/kappa.js';

const IDLE = { state: 'idle' as const, rebuildId: null, startedAt: null, finishedAt: null, phase: null, partitions: [], error: null, result: null };

export function kappaRoutes(deps: ServingDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/kappa/rebuilds',
      tag: 'kappa',
      summary: "The Kappa rebuild in progress, or the last one's comparison with the batch run",
      responses: { 200: { description: 'state, progress and result', schema: kappaState } },
      handler: () => deps.kappa?.state() ?? IDLE,
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/kappa/rebuilds',
      tag: 'kappa',
      admin: true,
      query: kappaRequest,
      summary: 'Replay the event log from its earliest retained offset through the speed layer into a fresh key prefix, and compare with the batch run (admin)',
      responses: {
        202: { description: 'the rebuild started; follow it at GET /api/v1/kappa/rebuilds', schema: kappaStarted },
        400: { description: 'unknown view, or a granularity the view does not keep' },
        401: { description: 'no bearer token' },
        403: { description: 'wrong token, or admin disabled (LAMBDA_ADMIN_TOKEN unset)' },
        409: { description: 'a rebuild is already running (CONFLICT)' },
        503: { description: 'no batch run is published yet, or this process runs no rebuild (UNAVAILABLE)' },
      },
      handler: async ({ query, res }) => {
        if (!deps.kappa) throw new LambdaError('UNAVAILABLE', 'this process does not run Kappa rebuilds');
        const view = query.view === undefined ? undefined : deps.views.byName[query.view];
        if (query.view !== undefined && view === undefined) {
          const known = deps.views.views.map((v) => v.name).join(', ');
          throw new LambdaError('VALIDATION', `query parameter "view": unknown view "${query.view}" (known: ${known})`, {
            details: { invalidParams: [{ parameter: 'view', message: `unknown (known: ${known})` }] },
          });
        }
        if (view && query.granularity !== undefined && !view.granularities.includes(query.granularity)) {
          const message = `view "${view.name}" keeps ${view.granularities.join(', ')}, not ${query.granularity}`;
          throw new LambdaError('VALIDATION', `query parameter "granularity": ${message}`, {
            details: { invalidParams: [{ parameter: 'granularity', message }] },
          });
        }
        const { rebuildId } = await deps.kappa.start(query);
        res.status(202).set('Location', '/api/v1/kappa/rebuilds');
        return { started: true as const, rebuildId, progress: '/api/v1/kappa/rebuilds' };
      },
    }),
  ];
}
