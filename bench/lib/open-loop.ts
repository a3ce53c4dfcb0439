/**
 * Open-loop load: requests sent at a fixed rate whatever the server does, each latency measured
 * from the moment the request was *due*, so a server that stalls is charged for every request
 * that queued behind the stall (no coordinated omission, unlike a closed loop that waits for an
 * answer before it sends the next request).
 */
import { Agent, request } from 'node:http';
import { percentile } from './stats.js';

export interface OpenLoopResult {
  targetRate: number;
  /** answers per second that completed within the run */
  achievedRate: number;
  sent: number;
  completed: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
}

export async function openLoop(url: string, ratePerSec: number, seconds: number): Promise<OpenLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const inflight = new Set<Promise<void>>();
  const target = new URL(url);
  const one = (due: number): Promise<void> =>
    new Promise((resolve) => {
      const req = request({ host: target.hostname, port: target.port, path: target.pathname + target.search, agent }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - due);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });
  const start = performance.now();
  const total = Math.round(ratePerSec * seconds);
  const interval = 1000 / ratePerSec;
  while (sent < total) {
    const now = performance.now();
    // Send every request due by now (a late timer sends the backlog at once, with its due times).
    while (sent < total && start + sent * interval <= now) {
      const p = one(start + sent * interval);
      inflight.add(p);
      void p.then(() => inflight.delete(p));
      sent++;
    }
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(5, start + sent * interval - performance.now()))));
  }
  const sendEnd = performance.now();
  await Promise.race([Promise.all(inflight), new Promise((r) => setTimeout(r, 30_000))]);
  agent.destroy();
  const sorted = latencies.sort((a, b) => a - b);
  return {
    targetRate: ratePerSec,
    achievedRate: latencies.length / ((sendEnd - start) / 1000),
    sent,
    completed: latencies.length,
    errors,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}
