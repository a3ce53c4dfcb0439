/**
 * What every long-running role shares: config (read once), the logger, the metrics registry, the
 * view definitions, and an optional metrics-only HTTP endpoint for roles other than `serve`.
 */
import { createServer } from 'node:http';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { createMetrics, type Metrics } from '../platform/metrics.js';
import type { Service } from '../platform/lifecycle.js';
import { loadViewSet } from '../platform/views-file.js';
import type { ViewSet } from '../shared/views/definition.js';
import { boot, type LogTo } from './boot.js';

export interface Runtime {
  config: Config;
  log: Logger;
  metrics: Metrics;
  views: ViewSet;
}

export function runtime(env: NodeJS.ProcessEnv, logTo: LogTo = 'stdout'): Runtime {
  const { config, log } = boot(env, logTo);
  const views = loadViewSet(config.viewsFile);
  log.info({ views: views.views.map((v) => v.name), source: views.source }, 'views loaded');
  return { config, log, metrics: createMetrics({ defaultMetrics: true }), views };
}

/** /metrics and /livez on LAMBDA_METRICS_PORT, so Prometheus can scrape a role that serves no API. */
export function metricsEndpoint(rt: Runtime): Service | null {
  const port = rt.config.http.metricsPort;
  if (port === 0) return null;
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      // Node ignores the handler's promise: a collector that throws would be an unhandled
      // rejection (the process exits), so it is a 500 and a log line instead.
      rt.metrics.registry.metrics().then(
        (text) => {
          res.setHeader('Content-Type', rt.metrics.registry.contentType);
          res.end(text);
        },
        (err: unknown) => {
          rt.log.error({ err }, 'metrics collection failed');
          res.statusCode = 500;
          res.end();
        },
      );
    } else if (req.url === '/livez') {
      res.setHeader('Content-Type', 'application/json');
      res.end('{"status":"ok"}');
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  return {
    name: 'metrics-endpoint',
    start: () => new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, rt.config.http.host, () => resolve())),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
