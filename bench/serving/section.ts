/**
 * The serving section: requests/s and latency with 50 concurrent connections (autocannon) for a
 * 7-day hourly series, a drift report and 7-day distinct totals, against the serving layer as the CLI builds it, and
 * beside it two ceilings answering the same precomputed JSON: an express route and a plain Node
 * http server. Each server runs in its own process; targets alternate within every repetition.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { benchContext } from '../lib/bench-context.js';
import { startReadyChild } from '../lib/child.js';
import { currentLoad } from '../lib/machine.js';
import { fmtCount, fmtMs, fmtRate, fmtSummary, goal, type SectionResult, type Table } from '../lib/report.js';
import type { BenchServices } from '../lib/services.js';
import { summarize, type Summary } from '../lib/stats.js';
import { openLoop, type OpenLoopResult } from '../lib/open-loop.js';
import { stopChild } from '../speed/speed-run.js';
import { seedServingData } from './seed.js';

export interface ServingPlan {
  ratePerSec: number;
  seconds: number;
  /** the drift report is slow: longer runs, so that some of its answers complete within one */
  driftSeconds: number;
  reps: number;
  connections: number;
}

export const SERVING_FULL: ServingPlan = { ratePerSec: 0.5, seconds: 10, driftSeconds: 20, reps: 3, connections: 50 };
export const SERVING_QUICK: ServingPlan = { ratePerSec: 0.1, seconds: 8, driftSeconds: 12, reps: 1, connections: 50 };

interface Shot {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

interface Target {
  label: string;
  url: string;
  shots: Shot[];
  /** seconds per run: a slow target gets longer runs, so some answers complete within one */
  seconds: number;
}

/**
 * Node keeps working through requests whose client has gone, so after a run a slow server may
 * still be busy for seconds: wait until /livez answers at once twice in a row before the next run.
 */
async function untilIdle(baseUrl: string): Promise<void> {
  const deadline = performance.now() + 180_000;
  let quick = 0;
  while (quick < 2 && performance.now() < deadline) {
    const t = performance.now();
    await fetch(`${baseUrl}/livez`)
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
    quick = performance.now() - t < 20 ? quick + 1 : 0;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The serving cache's gauges and counters, read from the serving layer's /metrics. */
async function readCacheMetrics(baseUrl: string): Promise<{ bytes: number; entries: number; lookups: Record<string, number> }> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  const lookups: Record<string, number> = {};
  for (const m of text.matchAll(/^lambda_serving_cache_lookups_total\{part="(\w+)",outcome="(\w+)"\} (\S+)$/gm)) lookups[`${m[1]} ${m[2]}`] = Number(m[3]);
  return { bytes: value('lambda_serving_cache_bytes'), entries: value('lambda_serving_cache_entries'), lookups };
}

async function cannon(url: string, seconds: number, connections: number): Promise<Shot> {
  // A long per-request timeout: a slow answer is measured as slow, not dropped as an error.
  const r = await autocannon({ url, connections, duration: seconds, pipelining: 1, timeout: 120 });
  await untilIdle(new URL(url).origin);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

export async function servingSection(services: BenchServices, plan: ServingPlan, log: (s: string) => void): Promise<SectionResult> {
  const ctx = benchContext(services, 'serve', { LAMBDA_TOPIC_PARTITIONS: '2' });
  const children: ChildProcess[] = [];
  try {
    log('seeding 7 days of events (batch run + speed layer)');
    const data = await seedServingData(ctx, plan.ratePerSec);
    const serve = await startReadyChild<{ url: string }>('bench/serving/serve-child.ts', ctx.env, join(ctx.dataDir, 'serve.log'));
    children.push(serve.child);
    const HOUR = 3_600_000;
    const to = Math.floor(data.now / HOUR) * HOUR + HOUR;
    const seriesPath = `/api/v1/views/revenue/series?granularity=hour&from=${to - 7 * 24 * HOUR}&to=${to}`;
    const driftPath = `/api/v1/views/pageviews/drift?granularity=hour&from=${to - 24 * HOUR}&to=${to}`;
    // Unique visitors per URL over the 7 days: per URL a union of 168 hourly sketches, the batch
    // run's and the speed layer's (issue 16).
    const totalsPath = `/api/v1/views/pageviews/totals?granularity=hour&from=${to - 7 * 24 * HOUR}&to=${to}&measures=visitors`;
    const seriesRes = await fetch(serve.ready.url + seriesPath);
    const seriesBody = await seriesRes.text();
    const driftBody = await (await fetch(serve.ready.url + driftPath)).text();
    const totalsRes = await fetch(serve.ready.url + totalsPath);
    const totalsBody = await totalsRes.text();
    if (!totalsRes.ok) throw new Error(`totals answered ${totalsRes.status}: ${totalsBody.slice(0, 500)}`);
    const totals = JSON.parse(totalsBody) as {
      approximate: string[];
      sources: { batchBuckets: number; speedBuckets: number };
      totals: { buckets: number; approximate?: string[] }[];
    };
    if (!seriesRes.ok) throw new Error(`series answered ${seriesRes.status}: ${seriesBody.slice(0, 500)}`);
    const series = JSON.parse(seriesBody) as { buckets: { source: string; groups: unknown[] }[] };
    const drift = JSON.parse(driftBody) as { bucketsCompared?: number };
    const bodyFile = join(ctx.dataDir, 'series.json');
    writeFileSync(bodyFile, seriesBody);
    const driftFile = join(ctx.dataDir, 'drift.json');
    writeFileSync(driftFile, driftBody);
    const totalsFile = join(ctx.dataDir, 'totals.json');
    writeFileSync(totalsFile, totalsBody);
    const ceiling = async (kind: 'express' | 'http', file: string, path: string, label: string, seconds: number): Promise<Target> => {
      const c = await startReadyChild<{ url: string }>(
        'bench/serving/ceiling-child.ts',
        { BENCH_CEILING: JSON.stringify({ kind, bodyFile: file }) },
        join(ctx.dataDir, `${kind}-${children.length}.log`),
      );
      children.push(c.child);
      return { label, url: c.ready.url + path, shots: [], seconds };
    };
    const targets: Target[] = [
      { label: 'lambda-arch: 7-day hourly series (revenue per country)', url: serve.ready.url + seriesPath, shots: [], seconds: plan.seconds },
      await ceiling('express', bodyFile, seriesPath, 'ceiling: express route, same series JSON precomputed', plan.seconds),
      await ceiling('http', bodyFile, seriesPath, 'ceiling: plain Node http server, same series JSON precomputed', plan.seconds),
      { label: 'lambda-arch: drift report, last 24 hours hourly (pageviews per URL)', url: serve.ready.url + driftPath, shots: [], seconds: plan.driftSeconds },
      await ceiling('express', driftFile, driftPath, 'ceiling: express route, same drift JSON precomputed', plan.driftSeconds),
      {
        label: 'lambda-arch: unique visitors per URL over 7 days (distinct totals, both layers)',
        url: serve.ready.url + totalsPath,
        shots: [],
        seconds: plan.seconds,
      },
      await ceiling('express', totalsFile, totalsPath, 'ceiling: express route, same totals JSON precomputed', plan.seconds),
    ];
    const load = currentLoad();
    for (const t of targets) await cannon(t.url, 2, plan.connections); // warm-up (JIT, connections, caches)
    for (let i = 0; i < plan.reps; i++) {
      for (const t of targets) {
        const shot = await cannon(t.url, t.seconds, plan.connections);
        t.shots.push(shot);
        log(`${t.label}: ${fmtRate(shot.rps)}, p50 ${shot.p50} ms, p99 ${shot.p99} ms`);
      }
    }
    // Open loop at half the express ceiling's rate: every latency counted from when its request
    // was due, so a stall is charged to every request queued behind it.
    const openRate = Math.max(1, Math.round(summarize(targets[1]!.shots.map((x) => x.rps)).median / 2));
    const open: { label: string; runs: OpenLoopResult[] }[] = [
      { label: targets[0]!.label, runs: [] },
      { label: targets[1]!.label, runs: [] },
    ];
    for (let i = 0; i < plan.reps; i++) {
      for (const [k, o] of open.entries()) {
        const r = await openLoop(targets[k]!.url, openRate, plan.seconds);
        await untilIdle(new URL(targets[k]!.url).origin);
        o.runs.push(r);
        log(
          `open loop ${fmtRate(openRate)} -> ${o.label}: ${fmtRate(r.achievedRate)}, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ${r.errors} errors`,
        );
      }
    }
    const cacheMetrics = await readCacheMetrics(serve.ready.url);
    const sum = (t: Target) => ({
      rps: summarize(t.shots.map((s) => s.rps)),
      p50: summarize(t.shots.map((s) => s.p50)),
      p99: summarize(t.shots.map((s) => s.p99)),
    });
    const stats = targets.map((t) => ({ ...t, ...sum(t), errors: t.shots.reduce((n, s) => n + s.errors + s.non2xx, 0) }));
    type Stat = (typeof stats)[number];
    const [lambdaSeries, express, http, lambdaDrift, expressDrift, lambdaTotals, expressTotals] = stats as [Stat, Stat, Stat, Stat, Stat, Stat, Stat];
    const share = lambdaSeries.rps.median / express.rps.median;
    const driftShare = lambdaDrift.rps.median / expressDrift.rps.median;
    const totalsShare = lambdaTotals.rps.median / expressTotals.rps.median;
    const ceilingOf = (s: Stat) => (s.url.includes('/drift') ? expressDrift : s.url.includes('/totals') ? expressTotals : express);
    const openSeries = {
      p50: summarize(open[0]!.runs.map((r) => r.p50)),
      p99: summarize(open[0]!.runs.map((r) => r.p99)),
      rate: summarize(open[0]!.runs.map((r) => r.achievedRate)),
    };
    const openTable: Table = {
      title: `Serving layer: open loop at ${fmtRate(openRate)} (half the express ceiling's closed-loop rate), ${plan.seconds} s per run`,
      columns: ['target', 'achieved rate: median', 'p50 latency', 'p99 latency: median (min to max)', 'max latency', 'errors'],
      rows: open.map((o) => [
        o.label,
        fmtRate(summarize(o.runs.map((r) => r.achievedRate)).median),
        fmtMs(summarize(o.runs.map((r) => r.p50)).median),
        fmtSummary(summarize(o.runs.map((r) => r.p99)), fmtMs),
        fmtMs(Math.max(...o.runs.map((r) => r.max))),
        String(o.runs.reduce((n, r) => n + r.errors, 0)),
      ]),
      notes: [
        'Requests leave at a fixed rate whatever the server does (bench/lib/open-loop.ts); each latency runs from when its request was due, so a stall is charged to every request queued behind it.',
        `Serving cache after the runs (lambda-arch /metrics): ${fmtCount(cacheMetrics.bytes)} bytes in ${cacheMetrics.entries} entries (bound: LAMBDA_SERVING_CACHE_MB, default 64 MiB); lookups ${Object.entries(
          cacheMetrics.lookups,
        )
          .map(([k, v]) => `${k} ${fmtCount(v)}`)
          .join(', ')}.`,
      ],
    };
    const table: Table = {
      title: `Serving layer: ${plan.connections} concurrent connections (autocannon, ${plan.seconds} s per run; the drift report ${plan.driftSeconds} s)`,
      columns: ['target', 'requests/s: median (min to max)', 'p50 latency', 'p99 latency', 'errors', 'vs the express route serving the same JSON'],
      rows: stats.map((s) => [
        s.label,
        s.rps.max === 0 ? `no answer completed within a ${s.seconds} s run` : fmtSummary(s.rps, fmtRate),
        s.rps.max === 0 ? '-' : fmtMs(s.p50.median),
        s.rps.max === 0 ? '-' : fmtSummary(s.p99, fmtMs),
        String(s.errors),
        `${((s.rps.median / ceilingOf(s).rps.median) * 100).toFixed(0)}%`,
      ]),
      notes: [
        `Data: ${fmtCount(data.batchEvents)} events over 7 days in a published batch run (SQLite) and the last 24 hours (${fmtCount(data.speedEvents)} events) in the speed layer (Redis, 2 partitions). The series answer has ${series.buckets.length} hourly buckets (${series.buckets.filter((b) => b.source === 'batch').length} from batch), ${(seriesBody.length / 1024).toFixed(0)} KiB; the drift report compares ${drift.bucketsCompared ?? 0} buckets, ${(driftBody.length / 1024).toFixed(0)} KiB. The unique-visitors totals answer ${totals.totals.length} URLs over ${totals.sources.batchBuckets} batch and ${totals.sources.speedBuckets} speed buckets (approximate: ${totals.approximate.join(', ') || 'none'}; each URL's value the union of its hourly sketches of both layers), ${(totalsBody.length / 1024).toFixed(1)} KiB.`,
        `The ceilings answer the same JSON from memory (express computes an ETag over it per request, as it does for any body it sends); autocannon runs in the bench process on the same 2 cores (load average ${load} when it started).`,
      ],
    };
    return {
      tables: [table, openTable],
      goals: [
        goal('Serving: 7-day hourly series, share of the express ceiling (requests/s)', 0.7, share, (v) => `${(v * 100).toFixed(0)}%`),
        lambdaSeries.rps.max > 0
          ? goal('Serving: 7-day hourly series p99', 50, lambdaSeries.p99.median, fmtMs, true)
          : {
              goal: 'Serving: 7-day hourly series p99',
              target: '< 50 ms',
              measured: `no answer within ${plan.seconds} s`,
              met: false,
              distance: `missed: over ${plan.seconds} s`,
            },
        goal('Serving: 7-day hourly series p99, open loop at half the express ceiling', 50, openSeries.p99.median, fmtMs, true),
        goal('Serving: drift report, share of the express route serving the same JSON (requests/s)', 0.3, driftShare, (v) => `${(v * 100).toFixed(0)}%`),
        goal(
          'Serving: unique visitors per URL over 7 days (distinct totals), share of the express route serving the same JSON (requests/s)',
          0.5,
          totalsShare,
          (v) => `${(v * 100).toFixed(0)}%`,
        ),
      ],
      data: {
        plan,
        data,
        open,
        openRate,
        cacheMetrics,
        seriesBytes: seriesBody.length,
        driftBytes: driftBody.length,
        totalsBytes: totalsBody.length,
        targets: stats.map(({ label, url, shots, rps, p50, p99 }) => ({ label, url, shots, rps, p50, p99 })),
        http: http.rps as Summary,
        lambdaDrift: lambdaDrift.rps,
        lambdaTotals: lambdaTotals.rps,
      },
    };
  } finally {
    await Promise.all(children.map(stopChild));
    await ctx.cleanup();
  }
}
