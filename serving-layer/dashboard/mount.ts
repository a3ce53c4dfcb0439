/**
 * The dashboard at `/`. Until the dashboard issue lands this serves a plain index page that
 * links the API, so a user who opens the printed address finds their way.
 */
import type { Express } from 'express';

const INDEX = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lambda-arch</title></head>
<body>
<h1>lambda-arch</h1>
<p>The charts are not built yet. The API is:</p>
<ul>
<li><a href="/api/v1/status">/api/v1/status</a>: the layers, the watermark, lag</li>
<li><a href="/api/v1/views">/api/v1/views</a>: views; add <code>/:view/series</code>, <code>/totals</code>, <code>/drift</code></li>
<li><a href="/openapi.json">/openapi.json</a>, <a href="/metrics">/metrics</a></li>
</ul>
</body></html>`;

export function mountDashboard(app: Express): void {
  app.get('/', (_req, res) => void res.type('html').send(INDEX));
}
