/**
 * The HTTP edge as a Service: listens, reports readiness (503 while a dependency is down or
 * while draining), and on stop finishes in-flight requests before closing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Service } from '../../platform/lifecycle.js';
import type { Logger } from '../../platform/logger.js';

export class HttpServer implements Service {
  readonly name = 'http';
  private server: Server | null = null;
  private draining = false;

  constructor(
    private readonly app: Express,
    private readonly opts: { host: string; port: number; graceMs: number },
    private readonly log: Logger,
  ) {}

  get isDraining(): boolean {
    return this.draining;
  }

  /** The bound address (useful with port 0 in tests). */
  get url(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('server not started');
    return `http://${this.opts.host}:${addr.port}`;
  }

  async start(): Promise<void> {
    const server = createServer(this.app);
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.server = server;
    this.log.info({ url: this.url }, 'HTTP server listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.draining = true;
    // close() stops accepting and resolves when in-flight requests are done; idle keep-alive
    // sockets are closed now so they do not hold the process open.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), this.opts.graceMs);
    await closed;
    clearTimeout(timer);
    this.server = null;
  }
}
