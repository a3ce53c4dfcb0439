/**
 * The serving layer's express app: API routes (declared as data in routes/), /openapi.json,
 * /metrics, /livez, /readyz and the dashboard; errors become problem+json once, at the edge.
 */
import express, { type Express } from 'express';
import { LambdaError } from '../shared/errors.js';
import { mountRoutes, type RouteSpec } from './http/route.js';
import { problemHandler, sendProblem } from './http/problem.js';
import { requireAdmin } from './http/auth.js';
import { buildOpenApi } from './http/openapi.js';
import { viewRoutes } from './routes/views.js';
import { ingestRoutes } from './routes/ingest.js';
import { adminRoutes } from './routes/admin.js';
import { kappaRoutes } from './routes/kappa.js';
import { speedAdminRoutes } from './routes/speed-admin.js';
import { mountDashboard } from './dashboard/mount.js';
import type { ServingDeps } from './deps.js';

export function allRoutes(deps: ServingDeps): RouteSpec[] {
  return [...viewRoutes(deps), ...ingestRoutes(deps), ...adminRoutes(deps), ...kappaRoutes(deps), ...speedAdminRoutes(deps)];
}

export function buildApp(deps: ServingDeps, isDraining: () => boolean): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  // Latency per route pattern (not per URL, which would explode the label set).
  app.use((req, res, next) => {
    const end = deps.metrics.serving.requestSeconds.startTimer();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? (res.statusCode === 404 ? 'unmatched' : req.path);
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  });

  const routes = allRoutes(deps);
  mountRoutes(app, routes, requireAdmin(deps.config.http.adminToken));
  const openapi = buildOpenApi(routes, { title: 'lambda-arch', version: '1' });
  app.get('/openapi.json', (_req, res) => void res.json(openapi));
  app.get('/livez', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const checks = Object.fromEntries(await Promise.all(deps.health.map(async (h) => [h.name, await h.check()] as const)));
    const down = Object.entries(checks)
      .filter(([, ok]) => !ok)
      .map(([n]) => n);
    if (isDraining() || down.length > 0) {
      sendProblem(res, {
        type: 'urn:lambda-arch:error:unavailable',
        title: 'UNAVAILABLE',
        status: 503,
        code: 'UNAVAILABLE',
        detail: isDraining() ? 'shutting down' : `dependencies down: ${down.join(', ')}`,
        checks,
      });
      return;
    }
    res.json({ status: 'ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  mountDashboard(app);
  app.use((req, _res, next) => next(new LambdaError('NOT_FOUND', `no route for ${req.method} ${req.path} (see /openapi.json)`)));
  app.use(problemHandler(deps.log));
  return app;
}
