/**
 * Writes the dashboard bundle to serving-layer/dashboard/dist/ (git-ignored): for serving the
 * dashboard from a static host or a CDN in front of the API, or to look at what the browser gets.
 * The server does not need it: it builds the same bundle in memory at start (bundle.ts).
 *   npm run build:dashboard [-- --no-minify]
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDashboard } from '../serving-layer/dashboard/bundle.js';

const out = fileURLToPath(new URL('../serving-layer/dashboard/dist/', import.meta.url));
const started = Date.now();
const bundle = await buildDashboard({ minify: !process.argv.includes('--no-minify') });
await rm(out, { recursive: true, force: true });
await mkdir(path.join(out, 'dashboard'), { recursive: true });
await writeFile(path.join(out, 'index.html'), bundle.indexHtml);
for (const [name, asset] of bundle.assets) await writeFile(path.join(out, 'dashboard', name), asset.body);
const bytes = [...bundle.assets.values()].reduce((s, a) => s + a.body.length, 0);
console.log(
  `dashboard built in ${Date.now() - started} ms: ${bundle.assets.size} files, ${(bytes / 1024).toFixed(0)} KiB, in ${path.relative(process.cwd(), out)}`,
);
