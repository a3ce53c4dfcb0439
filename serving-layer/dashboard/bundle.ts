/**
 * Builds the dashboard's browser bundle in memory with esbuild: TypeScript and uPlot into one
 * ES module, the CSS (uPlot's and ours) into one stylesheet. Nothing built is committed and there
 * is no separate build step: the serving layer calls this once at start (mount.ts), so
 * `lambda-arch serve` always serves a bundle made from the source it runs, and no CDN is needed.
 * scripts/build-dashboard.ts writes the same bundle to disk for static hosting.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const DASHBOARD_SRC = fileURLToPath(new URL('./src/', import.meta.url));

/** Where the assets are served; index.html names them through the placeholders below. */
export const ASSET_PREFIX = '/dashboard/';

export interface DashboardAsset {
  contentType: string;
  body: Buffer;
}

export interface DashboardBundle {
  /** index.html with the hashed asset names filled in */
  indexHtml: string;
  /** by file name (no prefix), e.g. app-3KX2.js, app-3KX2.css and their source maps */
  assets: ReadonlyMap<string, DashboardAsset>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export async function buildDashboard(opts: { minify?: boolean } = {}): Promise<DashboardBundle> {
  const result = await build({
    entryPoints: [
      { in: path.join(DASHBOARD_SRC, 'main.ts'), out: 'app' },
      { in: path.join(DASHBOARD_SRC, 'styles.css'), out: 'app' },
    ],
    bundle: true,
    format: 'esm',
    // Browsers of the last few years: <dialog>, ResizeObserver, optional chaining.
    target: ['chrome100', 'firefox100', 'safari15.4'],
    // Hashed names let the assets be cached forever; index.html is what changes.
    entryNames: '[name]-[hash]',
    outdir: 'dashboard-bundle',
    write: false,
    minify: opts.minify ?? true,
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'silent',
    tsconfig: fileURLToPath(new URL('./tsconfig.json', import.meta.url)),
  });
  const assets = new Map<string, DashboardAsset>();
  for (const file of result.outputFiles) {
    const name = path.basename(file.path);
    const ext = name.endsWith('.map') ? '.map' : path.extname(name);
    assets.set(name, { contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream', body: Buffer.from(file.contents) });
  }
  const named = (ext: string) => {
    const found = [...assets.keys()].find((n) => n.startsWith('app-') && n.endsWith(ext));
    if (!found) throw new Error(`esbuild produced no app${ext}`);
    return ASSET_PREFIX + found;
  };
  const template = await readFile(path.join(DASHBOARD_SRC, 'index.html'), 'utf8');
  const indexHtml = template.replaceAll('%APP_JS%', named('.js')).replaceAll('%APP_CSS%', named('.css'));
  return { indexHtml, assets };
}
