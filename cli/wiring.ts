/**
 * Builds each role from the runtime: the only place where layers, adapters and the serving
 * layer's ports meet. Each builder returns Services; the commands start and stop them.
 */
import { EventEmitter, once } from 'node:events';
import type { RedisClient } from '../adapters/redis/scripts.js';
import type { Service } from '../platform/lifecycle.js';
import { isLambdaError } from '../shared/errors.js';
import type { MasterDataset } from '../shared/ports.js';
import { createKafka } from '../adapters/kafka/client.js';
import { ensureTopics } from '../adapters/kafka/topics.js';
import { EventProducer } from '../adapters/kafka/producer.js';
import { createRedis } from '../adapters/redis/client.js';
import { RedisSpeedViewStore } from '../adapters/redis/speed-view-store.js';
import { changeSpeedControl, readSpeedControl } from '../adapters/redis/speed-control.js';
import { retentionPolicy } from '../shared/speed/retention.js';
import { SqliteBatchViewStore } from '../adapters/sqlite/batch-view-store.js';
import { openVerifiedMasterDataset } from '../adapters/master/index.js';
import type { Archiver } from '../batch-layer/archiver/archiver.js';
import { createArchiver } from './archiver-wiring.js';
import { BatchLayer } from '../batch-layer/batch-layer.js';
import { batchRunPorts, redisWatermarkPublisher } from './batch-wiring.js';
import type { SpeedLayer } from '../speed-layer/speed-layer.js';
import { createSpeedLayer } from './speed-wiring.js';
import { ServingLayer } from '../serving-layer/serving-layer.js';
import type { BatchControl, DeadLetterCount, HealthCheck, MasterSummary } from '../serving-layer/deps.js';
import type { Runtime } from './runtime.js';
import { kafkaTopicOffsets } from '../adapters/kafka/topic-offsets.js';
import { KappaRebuilder } from './kappa/rebuilder.js';

/** Opens the master dataset and checks it at start (credentials, bucket, reachability), not halfway through a run. */
export function buildMaster(rt: Runtime): Promise<MasterDataset> {
  return openVerifiedMasterDataset(rt.config, rt.log);
}

/** A consumer kafkajs gives up on is restarted with backoff, as the speed layer's is (docs/design-decisions.md, "Consumer groups"). */
export function buildArchiver(rt: Runtime, master: MasterDataset): Archiver {
  return createArchiver({ config: rt.config, log: rt.log.child({ role: 'archiver' }), metrics: rt.metrics, views: rt.views, master });
}

/** A Redis client as a Service, so it closes after everything that uses it has stopped. */
function redisService(redis: RedisClient): Service {
  return { name: 'redis-client', start: async () => undefined, stop: async () => void redis.disconnect() };
}

export function buildBatch(rt: Runtime, master: MasterDataset, opts: { schedule: boolean }) {
  const redis = createRedis(rt.config.redis.url, rt.log, 'lambda-batch');
  const progress = new EventEmitter();
  const layer = new BatchLayer({
    config: rt.config,
    views: rt.views,
    master,
    log: rt.log.child({ role: 'batch' }),
    metrics: rt.metrics,
    ports: batchRunPorts(rt.config, rt.log),
    publishWatermark: redisWatermarkPublisher(redis, rt.config.redis.keyPrefix),
    schedule: opts.schedule,
    onProgress: (runId) => progress.emit('progress', runId),
  });
  const control: BatchControl = {
    // Resolves as soon as the run holds the lease and reports progress, or rejects with
    // BATCH_RUNNING at once when another run holds it; the run itself goes on in the background.
    async trigger() {
      const run = layer.runNow();
      run.catch((err: unknown) => {
        if (!isLambdaError(err) || err.code !== 'BATCH_RUNNING') rt.log.error({ err }, 'triggered batch run failed');
      });
      const started = once(progress, 'progress').then(([runId]) => ({ runId: String(runId) }));
      return Promise.race([started, run.then((r) => ({ runId: r.runId }))]);
    },
    async progress() {
      const running = layer.status().running;
      return running ? { ...running } : null;
    },
  };
  return { layer, control, services: [layer, redisService(redis)] as Service[] };
}

export function buildSpeed(rt: Runtime): SpeedLayer {
  return createSpeedLayer({ config: rt.config, views: rt.views, log: rt.log.child({ role: 'speed' }), metrics: rt.metrics });
}

function cached<T>(ms: number, fn: () => Promise<T>): () => Promise<T> {
  let at = 0;
  let value: Promise<T> | null = null;
  return () => {
    if (!value || Date.now() - at > ms) {
      at = Date.now();
      value = fn().catch((err: unknown) => {
        value = null;
        throw err;
      });
    }
    return value;
  };
}

export function buildServing(rt: Runtime, master: MasterDataset, batchControl: BatchControl | null, listen?: { port?: number }) {
  const { config, log } = rt;
  const redis = createRedis(config.redis.url, log, 'lambda-serve');
  const kafka = createKafka(config.kafka.brokers, 'lambda-serve', log);
  const producer = new EventProducer(kafka);
  const admin = kafka.admin();
  const batch = new SqliteBatchViewStore(config.batch.dir, { catalogCheckMs: config.serving.catalogCheckMs });
  const speed = new RedisSpeedViewStore(redis, { prefix: config.redis.keyPrefix, views: rt.views, retention: retentionPolicy(config) });
  // The Kappa rebuild runs here, beside the batch runs it is compared with (docs/design-decisions.md, "Lambda vs Kappa").
  const kappa = new KappaRebuilder({ config, views: rt.views, log, kafka, offsets: kafkaTopicOffsets(kafka, config.kafka.replication), redis, batch, master });
  const health: HealthCheck[] = [
    { name: 'redis', check: cached(2000, async () => (await redis.ping().catch(() => null)) === 'PONG') },
    {
      name: 'kafka',
      check: cached(2000, async () => {
        try {
          await admin.connect();
          return (await admin.describeCluster()).brokers.length > 0;
        } catch {
          return false;
        }
      }),
    },
  ];
  // The status reads it; the lab polls the status a few times a second (issue 20).
  const deadLetters = cached(1_000, async (): Promise<DeadLetterCount> => {
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(config.kafka.dlqTopic);
    return { topic: config.kafka.dlqTopic, records: offsets.reduce((n, o) => n + Math.max(0, Number(o.high) - Number(o.low)), 0) };
  });
  const masterSummary = cached(10_000, async (): Promise<MasterSummary> => {
    const files = await master.listFiles();
    return { describe: master.describe(), files: files.length, bytes: files.reduce((s, f) => s + f.sizeBytes, 0) };
  });
  const serving = new ServingLayer(
    {
      config,
      log: log.child({ role: 'serve' }),
      metrics: rt.metrics,
      views: rt.views,
      batch,
      speed,
      now: () => Date.now(),
      maxAnswerRows: config.serving.maxAnswerRows,
      health,
      ingest: { send: (records) => producer.send(config.kafka.topic, records) },
      batchControl,
      master: masterSummary,
      kappa,
      speedControl: {
        read: () => readSpeedControl(redis, config.redis.keyPrefix),
        change: (c) => changeSpeedControl(redis, config.redis.keyPrefix, c),
      },
      deadLetters,
    },
    listen,
  );
  const clients: Service = {
    name: 'serving-clients',
    start: async () => {
      await ensureTopics(
        kafka,
        [
          { topic: config.kafka.topic, partitions: config.kafka.partitions },
          { topic: config.kafka.dlqTopic, partitions: config.kafka.partitions },
        ],
        config.kafka.replication,
      );
      await producer.start();
    },
    stop: async () => {
      // Bounded: a signal during start-up can find the readiness check's admin.connect() in flight,
      // and kafkajs then sometimes never settles the disconnect; shutdown must not wait for it
      // (the CLI's grace period would end it with exit 1). What is still open dies with the process.
      await settleWithin(log, 'Kafka producer stop', producer.stop(), CLIENT_STOP_MS);
      await settleWithin(log, 'Kafka admin disconnect', admin.disconnect(), CLIENT_STOP_MS);
      redis.disconnect();
      batch.close();
    },
  };
  // Stopped in reverse: the HTTP server first, then a rebuild in flight, then the clients it uses.
  return { serving, services: [clients, kappa.asService(), serving] as Service[] };
}

/** How long one client of the serving role may take to close on shutdown. */
const CLIENT_STOP_MS = 5_000;

/** Waits for `p` at most `ms`; a failure or a timeout is logged, never thrown: shutdown goes on. */
async function settleWithin(log: Runtime['log'], what: string, p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    p.then(
      () => 'done' as const,
      (err: unknown) => (log.warn({ err: (err as Error).message }, `${what} failed during shutdown`), 'done' as const),
    ),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms))),
  ]);
  clearTimeout(timer);
  if (outcome === 'timeout') log.warn({ ms }, `${what} did not finish within ${ms} ms; shutting down without it`);
}
