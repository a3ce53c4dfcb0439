/**
 * Where the serving layer's time goes: seeds the serving bench's data, runs the serving layer
 * with V8's CPU profiler, loads one path with autocannon (50 connections), and prints the
 * functions with the most self time. `node --import tsx bench/serving/profile.ts [series|drift|totals|ceiling] [seconds]`
 * (ceiling: the express route answering the same series JSON from memory, profiled the same way;
 * BENCH_CEILING_OF=totals or drift answers that path's JSON instead).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { benchContext } from '../lib/bench-context.js';
import { startReadyChild } from '../lib/child.js';
import { findServices } from '../lib/services.js';
import { stopChild } from '../speed/speed-run.js';
import { seedServingData } from './seed.js';
import { openLoop } from '../lib/open-loop.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const what = (['drift', 'totals', 'ceiling'] as const).find((w) => w === process.argv[2]) ?? 'series';
const seconds = Number(process.argv[3] ?? 10);
const ctx = benchContext(findServices(process.env), 'prof', {
  LAMBDA_TOPIC_PARTITIONS: '2',
  ...(process.env.LAMBDA_SERVING_SPEED_MAX_STALE_MS ? { LAMBDA_SERVING_SPEED_MAX_STALE_MS: process.env.LAMBDA_SERVING_SPEED_MAX_STALE_MS } : {}),
});
const profDir = mkdtempSync(join(tmpdir(), 'serving-prof-'));
try {
  // BENCH_SERVING_RATE: the seed's events per second (the full bench's 0.5; 0.1 by default, quicker to seed).
  const data = await seedServingData(ctx, Number(process.env.BENCH_SERVING_RATE ?? 0.1));
  const HOUR = 3_600_000;
  const to = Math.floor(data.now / HOUR) * HOUR + HOUR;
  const paths = {
    drift: `/api/v1/views/pageviews/drift?granularity=hour&from=${to - 24 * HOUR}&to=${to}`,
    totals: `/api/v1/views/pageviews/totals?granularity=hour&from=${to - 7 * 24 * HOUR}&to=${to}&measures=visitors`,
    series: `/api/v1/views/revenue/series?granularity=hour&from=${to - 7 * 24 * HOUR}&to=${to}`,
  };
  // BENCH_CEILING_OF=totals|drift: the ceiling answers that path's JSON instead of the series'.
  const ceilingOf = (['drift', 'totals'] as const).find((w) => w === process.env.BENCH_CEILING_OF) ?? 'series';
  const path = paths[what === 'ceiling' ? ceilingOf : what];
  // BENCH_NO_PROFILE=1 measures without the profiler's overhead (no self-time table then).
  const flags = process.env.BENCH_NO_PROFILE ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`];
  let serve = await startReadyChild<{ url: string }>('bench/serving/serve-child.ts', ctx.env, join(ctx.dataDir, 'serve.log'), what === 'ceiling' ? [] : flags);
  if (what === 'ceiling') {
    const bodyFile = join(ctx.dataDir, `${ceilingOf}.json`);
    writeFileSync(bodyFile, Buffer.from(await (await fetch(serve.ready.url + path)).arrayBuffer()));
    await stopChild(serve.child);
    serve = await startReadyChild<{ url: string }>(
      'bench/serving/ceiling-child.ts',
      { BENCH_CEILING: JSON.stringify({ kind: 'express', bodyFile }) },
      join(ctx.dataDir, 'ceiling.log'),
      flags,
    );
  }
  await autocannon({ url: serve.ready.url + path, connections: 50, duration: 2 }); // warm-up: JIT, the cache's first computation
  const openRate = Number(process.env.BENCH_OPEN_RATE ?? 0);
  if (openRate > 0) {
    // BENCH_OPEN_RATE=N: open loop at N requests/s instead of 50 connections closed-loop.
    const o = await openLoop(serve.ready.url + path, openRate, seconds);
    console.log(
      `${what} open loop ${openRate}/s: ${o.achievedRate.toFixed(0)}/s, p50 ${o.p50.toFixed(1)} ms, p99 ${o.p99.toFixed(1)} ms, max ${o.max.toFixed(1)} ms`,
    );
  } else {
    const r = await autocannon({ url: serve.ready.url + path, connections: 50, duration: seconds });
    console.log(`${what}: ${r.requests.average}/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`);
  }
  await stopChild(serve.child);
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) process.exit(0);
  const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as { nodes: ProfileNode[] };
  const self = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    total += hits;
    const where = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules|work\/main)\//, '')}:${n.callFrame.lineNumber + 1}`;
    self.set(where, (self.get(where) ?? 0) + hits);
  }
  for (const [where, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${((hits / total) * 100).toFixed(1).padStart(5)}%  ${where}`);
  // Self time by where the code lives: the project's folders, each package, node's own, V8's.
  const byPlace = new Map<string, number>();
  for (const n of profile.nodes) {
    const url = n.callFrame.url;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    const mine = /work\/main\/([^/]+)/.exec(url)?.[1];
    const place = pkg ?? (mine ? `lambda-arch ${mine}/` : url.startsWith('node:') ? 'node internals' : n.callFrame.functionName || '(native)');
    byPlace.set(place, (byPlace.get(place) ?? 0) + (n.hitCount ?? 0));
  }
  console.log('--- self time by place');
  for (const [place, hits] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${((hits / total) * 100).toFixed(1).padStart(5)}%  ${place}`);
} finally {
  await ctx.cleanup();
}
