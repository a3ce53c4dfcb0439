/**
 * The serving ceilings: the same precomputed JSON answered by an express route and by a plain
 * Node http server, in their own process like the serving layer. BENCH_CEILING =
 * {"kind": "express" | "http", "bodyFile": path}. Prints {"ready": true, "url": ...} when it listens.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

const { kind, bodyFile } = JSON.parse(process.env.BENCH_CEILING ?? '{}') as { kind: 'express' | 'http'; bodyFile: string };
const body = readFileSync(bodyFile);

let server: Server;
if (kind === 'express') {
  const app = express();
  app.get('/api/v1/views/:view/:what', (_req, res) => {
    res.type('application/json').send(body);
  });
  server = createServer(app);
} else {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
    res.end(body);
  });
}
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ ready: true, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
