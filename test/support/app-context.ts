/**
 * Boots the real service in-process for HTTP tests: archiver, speed layer, batch layer (on
 * demand) and the serving layer on a free port, wired exactly as `lambda-arch all` wires them,
 * against the real Kafka, Redis and files, with a unique topic, key prefix and data folder.
 */
import { Redis } from 'ioredis';
import { createMetrics } from '../../platform/metrics.js';
import { silentLogger } from '../../platform/logger.js';
import { startAll } from '../../platform/lifecycle.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import type { MasterDataset } from '../../shared/ports.js';
import type { Config } from '../../platform/config.js';
import { buildArchiver, buildBatch, buildMaster, buildServing, buildSpeed } from '../../cli/wiring.js';
import type { Runtime } from '../../cli/runtime.js';
import { testContext } from './context.js';
import { deleteTopics, testKafka } from './archiver-kafka.js';
import { deletePrefix } from './speed-harness.js';
import { endOffsets } from '../../adapters/kafka/topics.js';
import { waitUntil } from './wait.js';

export const ADMIN_TOKEN = 'test-admin-token-123';

export interface AppContext {
  url: string;
  config: Config;
  rt: Runtime;
  master: MasterDataset;
  /** fetch JSON from the service: { status, headers, body } */
  get(path: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience: bodies are asserted field by field
  post(path: string, body: string, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any -- as above
  stop(): Promise<void>;
}

export async function startApp(env: Record<string, string> = {}, opts: { speed?: boolean; archiver?: boolean } = {}): Promise<AppContext> {
  const ctx = testContext({ LAMBDA_ADMIN_TOKEN: ADMIN_TOKEN, LAMBDA_KAFKA_SESSION_TIMEOUT_MS: '6000', ...env });
  const log = silentLogger();
  const rt: Runtime = { config: ctx.config, log, metrics: createMetrics(), views: defaultViewSet() };
  const master = await buildMaster(rt);
  const batch = buildBatch(rt, master, { schedule: false });
  const serving = buildServing(rt, master, batch.control, { port: 0 });
  const services = [...serving.services, ...batch.services];
  if (opts.archiver !== false) services.push(buildArchiver(rt, master));
  if (opts.speed !== false) services.push(buildSpeed(rt));
  const stopServices = await startAll(services, log);
  const url = serving.serving.url;
  const call = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${url}${path}`, init);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, headers: res.headers, body: body as any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- see AppContext
  };
  return {
    url,
    config: ctx.config,
    rt,
    master,
    get: call,
    post: (path, body, headers = {}) => call(path, { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson', ...headers } }),
    async stop() {
      await stopServices();
      await deleteTopics(testKafka(ctx.config.kafka.brokers), [ctx.config.kafka.topic, ctx.config.kafka.dlqTopic]).catch(() => undefined);
      const redis = new Redis(ctx.config.redis.url);
      await deletePrefix(redis, ctx.config.redis.keyPrefix);
      redis.disconnect();
      ctx.cleanup();
    },
  };
}

/** Waits until the app's archiver made everything its topic holds durable (so a batch run can include it all). */
export async function archivedAll(app: AppContext): Promise<void> {
  const { topic } = app.config.kafka;
  const ends = await endOffsets(testKafka(app.config.kafka.brokers), topic);
  await waitUntil(
    () => app.master.readCheckpoints(),
    (cps) => [...ends].every(([p, end]) => (cps.find((c) => c.partition === p && c.topic === topic)?.lastOffset ?? -1) >= end - 1),
    { what: 'the archiver to make every record durable', timeoutMs: 60_000 },
  );
}
