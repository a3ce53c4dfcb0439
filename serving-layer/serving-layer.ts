/** The serving layer as a Service: the express app behind the HTTP server, drained on stop. */
import type { Service } from '../platform/lifecycle.js';
import { buildApp } from './app.js';
import { HttpServer } from './http/server.js';
import type { ServingDeps } from './deps.js';

export class ServingLayer implements Service {
  readonly name = 'serving';
  private readonly server: HttpServer;

  constructor(deps: ServingDeps, listen?: { host?: string; port?: number }) {
    const app = buildApp(deps, () => this.server.isDraining);
    this.server = new HttpServer(
      app,
      { host: listen?.host ?? deps.config.http.host, port: listen?.port ?? deps.config.http.port, graceMs: deps.config.shutdownGraceMs },
      deps.log.child({ component: 'http' }),
    );
  }

  get url(): string {
    return this.server.url;
  }

  start(): Promise<void> {
    return this.server.start();
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}
