/**
 * Fault on the cluster topology (issue 18): two `lambda-arch serve` processes on the Kafka cluster
 * and the Redis Cluster; one is SIGKILLed while answering (a POST of events in flight). Its
 * request fails, as a client behind a load balancer would see it and retry; the other keeps
 * answering the same totals, and takes the retried events, which the speed layer then counts.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Kafka } from 'kafkajs';
import { createRedis } from '../../adapters/redis/client.js';
import type { RedisClient } from '../../adapters/redis/scripts.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { createSpeedLayer } from '../../cli/speed-wiring.js';
import type { SpeedLayer } from '../../speed-layer/speed-layer.js';
import { deleteTopics, testKafka } from '../support/archiver-kafka.js';
import { getJson, holdPost, probe } from '../support/cli-http.js';
import { cliEnvironment, killAllCli, startCli, type CliEnvironment, type CliProcess } from '../support/cli-process.js';
import { clusterSkipReason } from '../support/cluster.js';
import { freePort } from '../support/free-port.js';
import { deletePrefix, waitCaughtUp } from '../support/speed-harness.js';
import { waitUntil } from '../support/wait.js';

const views = defaultViewSet();
const skip = clusterSkipReason();
if (skip) console.warn(`cluster-serving-kill.test.ts skipped: ${skip}`);

const NOW = Date.now();
function pageviews(from: number, n: number): string {
  return (
    Array.from({ length: n }, (_, i) =>
      JSON.stringify({ id: `pv-${from + i}`, ts: NOW - 60_000 + i, type: 'pageview', url: `/p/${(from + i) % 5}`, user: `u${i % 9}` }),
    ).join('\n') + '\n'
  );
}

interface Totals {
  totals: { values: Record<string, number | null> }[];
}

describe.skipIf(skip !== null)(`a serving instance killed while answering${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let env: CliEnvironment;
  let kafka: Kafka;
  let redis: RedisClient;
  let speed: SpeedLayer | null = null;
  const servers: { proc: CliProcess; url: string }[] = [];

  beforeAll(async () => {
    const services = inject('services');
    env = await cliEnvironment({
      KAFKA_BROKERS: services.kafkaClusterBrokers.join(','),
      REDIS_URL: services.redisClusterUrl,
      LAMBDA_TOPIC_PARTITIONS: '4',
      LAMBDA_BATCH_CRON: '0 0 * * *',
    });
    kafka = testKafka(env.config.kafka.brokers);
    redis = createRedis(env.config.redis.url, silentLogger(), 'cluster-serving-kill-test');
  });
  afterAll(async () => {
    await killAllCli();
    await speed?.stop();
    await deleteTopics(kafka, [env.config.kafka.topic, env.config.kafka.dlqTopic]);
    await deletePrefix(redis, env.config.redis.keyPrefix);
    redis.disconnect();
    rmSync(env.dataDir, { recursive: true, force: true });
  });

  it('the other instance keeps answering the same totals and takes the retried events', async () => {
    const secondPort = await freePort();
    servers.push({ proc: startCli(['serve'], env.env), url: env.url });
    servers.push({ proc: startCli(['serve'], { ...env.env, LAMBDA_HTTP_PORT: String(secondPort) }), url: `http://127.0.0.1:${secondPort}` });
    for (const s of servers)
      await waitUntil(
        () => probe(`${s.url}/readyz`),
        (st) => st === 200,
        { what: `${s.url}/readyz`, timeoutMs: 60_000 },
      );
    const [a, b] = servers as [(typeof servers)[0], (typeof servers)[0]];
    const totals = async (s: { url: string }) =>
      (await getJson<Totals>(`${s.url}/api/v1/views/pageviews/totals?granularity=hour&from=${NOW - 3_600_000}&to=${NOW + 3_600_000}&groupBy=`)).totals;
    const count = (t: Totals['totals']) => t.reduce((sum, r) => sum + Number(r.values.views ?? 0), 0);

    speed = createSpeedLayer({ config: env.config, views, log: silentLogger(), metrics: createMetrics(), statusIntervalMs: 200 });
    await speed.start();
    for (const s of servers) {
      const res = await fetch(`${s.url}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body: pageviews(s === a ? 0 : 100, 100),
      });
      expect(res.status, await res.text()).toBe(202);
    }
    await waitCaughtUp(kafka, redis, env.config);
    const before = await totals(a);
    expect(count(before)).toBe(200);
    expect(await totals(b)).toEqual(before);

    // Killed while answering: its request is in (the server answered 100 Continue), its body not yet.
    const held = await holdPost(`${a.url}/api/v1/events`, pageviews(200, 50), 'application/x-ndjson');
    a.proc.signal('SIGKILL');
    expect((await a.proc.exited).signal).toBe('SIGKILL');
    held.finish();
    await expect(held.response, 'the request in flight on the killed instance fails').rejects.toThrow();
    expect(await probe(`${a.url}/readyz`)).toBe('refused');

    // The other one answers as before, and takes the retry.
    expect(await totals(b)).toEqual(before);
    const retry = await fetch(`${b.url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: pageviews(200, 50) });
    expect(retry.status, await retry.text()).toBe(202);
    await waitCaughtUp(kafka, redis, env.config);
    // Its speed reads are reused for up to LAMBDA_SERVING_SPEED_MAX_STALE_MS (200 ms).
    await waitUntil(
      async () => count(await totals(b)),
      (n) => n === 250,
      { what: "the retried events in the surviving instance's totals", timeoutMs: 10_000 },
    );
  });
});
