/**
 * The dashboard at `/` (docs/design-decisions.md §8): index.html and its bundle, built in memory once per process
 * when the app is assembled (bundle.ts). A build error is not swallowed: every dashboard request
 * then fails with a logged 500 problem, while the API keeps working.
 */
import type { Express } from 'express';
import { LambdaError } from '../../shared/errors.js';
import { ASSET_PREFIX, buildDashboard, type DashboardBundle } from './bundle.js';

/** One build per process: several apps in one process (tests) share it. */
let building: Promise<DashboardBundle> | null = null;

function dashboardBundle(): Promise<DashboardBundle> {
  if (!building) {
    building = buildDashboard().catch((err: unknown) => {
      throw new LambdaError('INTERNAL', `the dashboard bundle did not build: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    });
    // Reported when a request needs the bundle; never an unhandled rejection at start.
    building.catch(() => undefined);
  }
  return building;
}

export function mountDashboard(app: Express): void {
  const bundle = dashboardBundle();
  app.get('/', async (_req, res) => {
    const { indexHtml } = await bundle;
    // Revalidated on every load so a restarted server's new bundle is picked up at once.
    res.set('Cache-Control', 'no-cache').type('html').send(indexHtml);
  });
  app.get(`${ASSET_PREFIX}:file`, async (req, res, next) => {
    const asset = (await bundle).assets.get(req.params.file);
    if (!asset) {
      next();
      return;
    }
    // The names carry a content hash: a changed bundle has new names.
    res.set('Cache-Control', 'public, max-age=31536000, immutable').type(asset.contentType).send(asset.body);
  });
}
