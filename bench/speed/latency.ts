/**
 * Produce-to-visible latency: while a load process produces at a fixed rate, the bench sends a
 * marker event (its own URL) every 200 ms and polls the serving layer's series API for it every
 * 10 ms; latency = first answer that shows the marker minus the moment before it was sent
 * (Kafka ack, speed layer fetch + Lua apply, serving read: everything a user waits for).
 */
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Redis } from 'ioredis';
import { retentionPolicy } from '../../shared/speed/retention.js';
import { RedisSpeedViewStore } from '../../adapters/redis/speed-view-store.js';
import { endOffsets, ensureTopics } from '../../adapters/kafka/topics.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import type { BenchContext } from '../lib/bench-context.js';
import { runJsonChild, startReadyChild } from '../lib/child.js';
import { percentile } from '../lib/stats.js';
import { connectProducer } from './produce.js';
import { appliedOffsets, spawnSpeed, stopChild } from './speed-run.js';

export interface LatencyResult {
  targetRate: number;
  /** what a flat-out producer reached on this machine just before (NaN when not calibrated) */
  maxProduceRate: number;
  achievedRate: number;
  markers: number;
  /** markers not visible within the timeout (counted at the timeout in the percentiles) */
  notVisible: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  latenciesMs: number[];
}

const MARKER_EVERY_MS = 200;
const POLL_EVERY_MS = 10;
const VISIBLE_TIMEOUT_MS = 30_000;

async function markerVisible(baseUrl: string, seq: number, ts: number): Promise<boolean> {
  const minute = Math.floor(ts / 60_000) * 60_000;
  const url = `${baseUrl}/api/v1/views/pageviews/series?granularity=minute&from=${minute - 60_000}&to=${minute + 120_000}&filter=${encodeURIComponent(`url:/bench-marker/${seq}`)}`;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`series answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { buckets: { groups: { values: Record<string, number | null> }[] }[] };
  return body.buckets.some((b) => b.groups.some((g) => (g.values.views ?? 0) >= 1));
}

/** Sends one marker and resolves with its produce-to-visible time (or the timeout). */
async function measureMarker(producer: Producer, topic: string, baseUrl: string, tag: string, seq: number): Promise<number> {
  const ts = Date.now();
  const id = `marker-${tag}-${seq}`;
  const value = JSON.stringify({ id, ts, type: 'pageview', url: `/bench-marker/${seq}`, user: 'bench-marker', country: 'XX' });
  const sentAt = performance.now();
  await producer.send({ topic, acks: -1, messages: [{ key: id, value }] });
  while (performance.now() - sentAt < VISIBLE_TIMEOUT_MS) {
    if (await markerVisible(baseUrl, seq, ts)) return performance.now() - sentAt;
    await new Promise((r) => setTimeout(r, POLL_EVERY_MS));
  }
  return VISIBLE_TIMEOUT_MS;
}

/**
 * `calibrate`: first measure what a flat-out producer reaches and lower the target below it when
 * the machine cannot produce 1.2x the target; without it the target is used as given.
 */
export async function measureLatency(ctx: BenchContext, opts: { targetRate: number; seconds: number; calibrate: boolean }): Promise<LatencyResult> {
  const { config } = ctx;
  const brokers = [...config.kafka.brokers];
  const topic = config.kafka.topic;
  const kafka = new Kafka({ clientId: 'lambda-bench-latency', brokers, logLevel: logLevel.NOTHING });
  await ensureTopics(kafka, [
    { topic, partitions: config.kafka.partitions },
    { topic: config.kafka.dlqTopic, partitions: config.kafka.partitions },
  ]);
  const speed = spawnSpeed(ctx.env, join(ctx.dataDir, 'speed.log'));
  const serve = await startReadyChild<{ url: string }>('bench/serving/serve-child.ts', ctx.env, join(ctx.dataDir, 'serve.log'));
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 3 });
  const store = new RedisSpeedViewStore(redis, { prefix: config.redis.keyPrefix, views: defaultViewSet(), retention: retentionPolicy(config) });
  const producer = await connectProducer(kafka, true);
  let load: Awaited<ReturnType<typeof startReadyChild>> | null = null;
  try {
    // What can this machine produce? The target is lowered when it cannot keep 20% above it.
    const loadEnv = (mode: 'max' | 'rate', rate: number, seconds: number) => ({ BENCH_LOAD: JSON.stringify({ brokers, topic, mode, rate, seconds }) });
    const maxRate = opts.calibrate ? (await runJsonChild<{ maxRate: number }>('bench/speed/load-child.ts', loadEnv('max', 0, 3))).maxRate : Number.NaN;
    const targetRate = !opts.calibrate || maxRate >= opts.targetRate * 1.2 ? opts.targetRate : Math.max(1000, Math.floor((maxRate * 0.8) / 1000) * 1000);
    // Let the speed layer apply the calibration burst before the clock starts.
    const ends = await endOffsets(kafka, topic);
    const end = [...ends.values()].reduce((a, b) => a + b, 0);
    const caughtUpBy = Date.now() + 180_000;
    while ((await appliedOffsets(store)) < end) {
      if (Date.now() > caughtUpBy) throw new Error('the speed layer did not apply the calibration burst within 3 minutes');
      await new Promise((r) => setTimeout(r, 200));
    }

    load = await startReadyChild(
      'bench/speed/load-child.ts',
      { ...loadEnv('rate', targetRate, 0), PATH: process.env.PATH ?? '' },
      join(ctx.dataDir, 'load.log'),
    );
    await new Promise((r) => setTimeout(r, 2000)); // the load reaches its rate, the consumer its pace
    const tag = Date.now().toString(36);
    const pending: Promise<number>[] = [];
    const started = performance.now();
    for (let seq = 0; performance.now() - started < opts.seconds * 1000; seq++) {
      pending.push(measureMarker(producer, topic, serve.ready.url, tag, seq));
      await new Promise((r) => setTimeout(r, MARKER_EVERY_MS));
    }
    const latencies = await Promise.all(pending);
    const loadDone = new Promise((r) => load?.child.once('exit', r));
    load.child.kill('SIGTERM');
    await loadDone;
    const { achievedRate } = JSON.parse(load.laterOutput().trim().split('\n').pop() ?? '{}') as { achievedRate: number };
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      targetRate,
      maxProduceRate: maxRate,
      achievedRate,
      markers: latencies.length,
      notVisible: latencies.filter((l) => l >= VISIBLE_TIMEOUT_MS).length,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? Number.NaN,
      latenciesMs: latencies.map((l) => Math.round(l * 10) / 10),
    };
  } finally {
    if (load) await stopChild(load.child);
    await producer.disconnect();
    await stopChild(serve.child);
    await stopChild(speed);
    redis.disconnect();
  }
}
