/**
 * An HTTP proxy in front of the test S3 server that can misbehave on cue, to test what real
 * networks and real S3 do: throttle (503 SlowDown), fail (500), break a response body half-way,
 * or run a hook at the exact moment the server has stored an object but the client has not yet
 * heard so (the crash test kills the archiver there).
 *
 * Requests are forwarded byte for byte with their Host header, so AWS Signature V4 still verifies
 * at the server (path-style addressing; the client's endpoint is this proxy).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  /** URL path without the query, decoded: `/<bucket>/<key>` */
  path: string;
  query: string;
  status: number;
}

export type RequestMatch = (r: { method: string; path: string; query: string }) => boolean;

interface Fault {
  match: RequestMatch;
  remaining: number;
  kind: { type: 'error'; status: number; code: string } | { type: 'cut-body'; afterBytes: number };
}

export class S3FaultProxy {
  readonly seen: SeenRequest[] = [];
  private readonly faults: Fault[] = [];
  private hook: ((r: SeenRequest) => void) | null = null;

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
  ) {}

  static async start(upstreamEndpoint: string): Promise<S3FaultProxy> {
    const server = createServer();
    const proxy = new S3FaultProxy(server, new URL(upstreamEndpoint));
    server.on('request', (req, res) => proxy.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Answers the next `times` matching requests with an S3 error instead of forwarding them. */
  failNext(times: number, status: number, code: string, match: RequestMatch = () => true): void {
    this.faults.push({ match, remaining: times, kind: { type: 'error', status, code } });
  }

  /** Forwards the next matching request but drops the connection after `afterBytes` of its body. */
  cutNextBody(afterBytes: number, match: RequestMatch): void {
    this.faults.push({ match, remaining: 1, kind: { type: 'cut-body', afterBytes } });
  }

  /** Called once the server answered a request, before the client receives the answer. */
  onServerAnswered(hook: ((r: SeenRequest) => void) | null): void {
    this.hook = hook;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private takeFault(r: { method: string; path: string; query: string }): Fault['kind'] | null {
    const f = this.faults.find((x) => x.remaining > 0 && x.match(r));
    if (!f) return null;
    f.remaining--;
    return f.kind;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const info = { method: req.method ?? 'GET', path: decodeURIComponent(url.pathname), query: url.search.slice(1) };
    const fault = this.takeFault(info);
    if (fault?.type === 'error') {
      req.resume(); // drain the body the client is sending
      req.on('end', () => {
        this.seen.push({ ...info, status: fault.status });
        res.writeHead(fault.status, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>injected by the test proxy</Message></Error>`);
      });
      return;
    }
    const up = request({ host: this.upstream.hostname, port: this.upstream.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      const seen = { ...info, status: upRes.statusCode ?? 0 };
      this.seen.push(seen);
      this.hook?.(seen);
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (fault?.type !== 'cut-body') {
        upRes.pipe(res);
        return;
      }
      let sent = 0;
      upRes.on('data', (chunk: Buffer) => {
        if (sent >= fault.afterBytes) return;
        const part = chunk.subarray(0, fault.afterBytes - sent);
        sent += part.length;
        res.write(part);
        if (sent >= fault.afterBytes) {
          upRes.destroy();
          res.socket?.destroy(); // the client sees the connection drop mid-body
        }
      });
    });
    up.on('error', () => res.socket?.destroy());
    req.pipe(up);
  }
}
