/**
 * Every role at once, each its own `bin/lambda-arch` process, on the cluster topology (issue 18):
 * two archivers, two speed consumers, two serving processes, one batch scheduler (`batch
 * schedule`, its cron firing every 30 s), and the HTTP trigger of a batch run in one of the
 * serving processes; three Kafka brokers and the Redis Cluster. A stream with duplicates across
 * partitions, invalid and late records: the speed views equal the reference fold, both serving
 * processes answer the same totals, the scheduler publishes runs, and the run the trigger started
 * (in the serving process, not the scheduler: the catalog's lease keeps them apart) equals the
 * reference fold too.
 *
 * Light on purpose (a shared 2-core machine): 4,200 records, one test, no faults (the fault tests
 * are cluster-*-kill / -failover). The allowed lateness is 4 h so the 30-second schedule's short
 * speed retention (bucket + 2 periods + lateness) still keeps the stream's buckets (2 h old).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Kafka } from 'kafkajs';
import { createRedis } from '../../adapters/redis/client.js';
import type { RedisClient } from '../../adapters/redis/scripts.js';
import { endOffsets, ensureTopics } from '../../adapters/kafka/topics.js';
import { openMasterDataset } from '../../adapters/master/index.js';
import { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import { silentLogger } from '../../platform/logger.js';
import { referenceFold } from '../../shared/reference-fold.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { clickRecords, deleteTopics, produceAll, testKafka } from '../support/archiver-kafka.js';
import { expectRunEqualsReference } from '../support/batch-master.js';
import { getJson, probe } from '../support/cli-http.js';
import { cliEnvironment, killAllCli, startCli, type CliEnvironment, type CliProcess } from '../support/cli-process.js';
import { clusterSkipReason } from '../support/cluster.js';
import { freePort } from '../support/free-port.js';
import { checkpointsCover } from '../support/master-read.js';
import { deletePrefix, diffFromReference, readAllViews, viewStore, waitCaughtUp } from '../support/speed-harness.js';
import { waitUntil } from '../support/wait.js';

const views = defaultViewSet();
const skip = clusterSkipReason();
if (skip) console.warn(`cluster-roles-cli.test.ts skipped: ${skip}`);
const HOUR = 3_600_000;
const TOKEN = 'cluster-roles-admin-token';

interface Runs {
  runs: { runId: string }[];
}
interface Totals {
  totals: { values: Record<string, number | null> }[];
}

describe.skipIf(skip !== null)(`every role as its own lambda-arch process on the cluster${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let env: CliEnvironment;
  let kafka: Kafka;
  let redis: RedisClient;
  let batchStore: SqliteBatchViewStore | null = null;

  beforeAll(async () => {
    const services = inject('services');
    env = await cliEnvironment({
      KAFKA_BROKERS: services.kafkaClusterBrokers.join(','),
      REDIS_URL: services.redisClusterUrl,
      LAMBDA_TOPIC_PARTITIONS: '4',
      LAMBDA_BATCH_CRON: '*/30 * * * * *',
      LAMBDA_ALLOWED_LATENESS_MS: String(4 * HOUR),
      LAMBDA_ARCHIVER_FLUSH_MS: '500',
      LAMBDA_KAFKA_SESSION_TIMEOUT_MS: '6000',
      LAMBDA_SPEED_COVER_FROM: 'earliest',
      // the stream's event times lie up to hours back: every copy is checked against its claims
      LAMBDA_SPEED_DEDUPE_TTL_S: '172800',
      LAMBDA_BATCH_WORKERS: '1',
      LAMBDA_ADMIN_TOKEN: TOKEN,
    });
    kafka = testKafka(env.config.kafka.brokers);
    redis = createRedis(env.config.redis.url, silentLogger(), 'cluster-roles-cli-test');
  });
  afterAll(async () => {
    await killAllCli();
    batchStore?.close();
    await deleteTopics(kafka, [env.config.kafka.topic, env.config.kafka.dlqTopic]);
    await deletePrefix(redis, env.config.redis.keyPrefix);
    redis.disconnect();
    rmSync(env.dataDir, { recursive: true, force: true });
  });

  it(
    'two archivers, two speed, two serve, a batch scheduler and an HTTP-triggered run: speed and batch equal the reference fold',
    { timeout: 420_000 },
    async () => {
      const k = env.config.kafka;
      await ensureTopics(
        kafka,
        [
          { topic: k.topic, partitions: k.partitions },
          { topic: k.dlqTopic, partitions: k.partitions },
        ],
        k.replication,
      );
      const records = clickRecords(4000, 1818, Date.now() - 2 * HOUR);
      // Copies of some ids under other keys land on other partitions: dedupe across the cluster's slots.
      const all = [...records, ...records.slice(0, 200).map((r, i) => ({ key: `copy-${i}`, value: r.value }))];
      const half = Math.floor(all.length / 2);
      await produceAll(kafka, k.topic, all.slice(0, half));

      const secondPort = await freePort();
      const serveA = startCli(['serve'], env.env);
      const serveB = startCli(['serve'], { ...env.env, LAMBDA_HTTP_PORT: String(secondPort) });
      const urls = [env.url, `http://127.0.0.1:${secondPort}`] as const;
      const scheduler = startCli(['batch', 'schedule'], env.env);
      const workers: CliProcess[] = [
        startCli(['speed'], env.env),
        startCli(['speed'], env.env),
        startCli(['archiver'], env.env),
        startCli(['archiver'], env.env),
      ];
      const everyone = [serveA, serveB, scheduler, ...workers];
      const died = () => everyone.find((p) => !p.running);
      for (const url of urls) {
        await waitUntil(
          () => probe(`${url}/readyz`),
          (s) => s === 200 || died() !== undefined,
          { what: `${url}/readyz`, timeoutMs: 120_000, intervalMs: 250 },
        );
      }
      expect(died(), 'a role exited early').toBeUndefined();
      await produceAll(kafka, k.topic, all.slice(half));
      const ends = await endOffsets(kafka, k.topic);
      expect(
        [...ends.values()].reduce((a, b) => a + b, 0),
        'the idempotent producer wrote each record once',
      ).toBe(all.length);

      // Speed: both processes own partitions, and the views equal the reference fold.
      await waitCaughtUp(kafka, redis, env.config, 120_000);
      const values = all.map((r) => r.value);
      const store = viewStore(redis, env.config, views);
      expect(diffFromReference(await readAllViews(store, views), referenceFold(values, views), views)).toEqual([]);
      const owners = await waitUntil(
        async () => new Set((await store.status()).partitions.filter((p) => !p.stale).map((p) => p.instance)),
        (s) => s.size === 2,
        { what: 'both speed processes reporting partitions of their own', timeoutMs: 60_000 },
      );
      expect(owners.size).toBe(2);
      // Serving: the two processes answer the same totals (one Redis Cluster, one batch catalog).
      const totals = (url: string) =>
        getJson<Totals>(`${url}/api/v1/views/pageviews/totals?granularity=hour&from=${Date.now() - 4 * HOUR}&to=${Date.now() + HOUR}&groupBy=`);
      const [a, b] = await Promise.all(urls.map(totals));
      expect(a!.totals.length).toBeGreaterThan(0);
      expect(b!.totals).toEqual(a!.totals);

      // Archivers: every record archived once (checkpoints at the partition ends).
      const master = openMasterDataset(env.config, silentLogger());
      await waitUntil(() => checkpointsCover(master, k.topic, ends), Boolean, { what: 'archiver checkpoints covering the whole topic', timeoutMs: 120_000 });

      // The scheduler's cron fires in its own process.
      const published = (p: CliProcess) =>
        p
          .logs()
          .filter((l) => l.msg === 'batch run published')
          .map((l) => String(l.runId));
      await waitUntil(
        () => published(scheduler),
        (ids) => ids.length > 0,
        { what: 'the batch scheduler to publish a run on its cron', timeoutMs: 120_000, intervalMs: 500 },
      );

      // The HTTP trigger in the second serving process (409 while a scheduled run holds the lease).
      const trigger = () => fetch(`${urls[1]}/api/v1/batch/runs`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
      const started = await waitUntil(
        async () => {
          const res = await trigger();
          return { status: res.status, body: (await res.json()) as { runId?: string | null } };
        },
        (r) => r.status === 202 || r.status !== 409,
        { what: 'POST /api/v1/batch/runs to start a run', timeoutMs: 120_000, intervalMs: 1_000 },
      );
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      const runId = started.body.runId;
      expect(runId).toEqual(expect.any(String));
      await waitUntil(
        () => getJson<Runs>(`${urls[0]}/api/v1/batch/runs`),
        (r) => r.runs.some((x) => x.runId === runId),
        {
          what: `run ${runId} published (seen by the other serving process)`,
          timeoutMs: 120_000,
          intervalMs: 500,
        },
      );
      expect(published(serveB), 'the triggered run ran in the serving process it was asked of').toContain(runId);
      expect(published(scheduler)).not.toContain(runId);
      batchStore = new SqliteBatchViewStore(env.config.batch.dir);
      const groups = expectRunEqualsReference(batchStore.openRun(runId as string), views, values, {
        from: Date.now() - 2 * 86_400_000,
        to: Date.now() + 86_400_000,
      });
      expect(groups).toBeGreaterThan(100);
      expect(died(), 'every role still running').toBeUndefined();
    },
  );
});
