/**
 * The end-to-end equality test on the cluster topology (issue 18): three Kafka brokers and a Redis
 * Cluster of three masters with one replica each; two speed instances and two archivers in their
 * consumer groups over four partitions; a stream with duplicates (some across partitions), invalid
 * and late records. The speed views equal the reference fold; the master dataset holds every valid
 * record exactly once; a batch run over it equals the reference fold too. The event topic has three
 * copies per partition and min.insync.replicas=2, as LAMBDA_TOPIC_REPLICATION=auto decides.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { createRedis } from '../../adapters/redis/client.js';
import type { RedisClient } from '../../adapters/redis/scripts.js';
import { endOffsets, ensureTopics } from '../../adapters/kafka/topics.js';
import { openMasterDataset } from '../../adapters/master/index.js';
import { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import { createArchiver } from '../../cli/archiver-wiring.js';
import { runWiredBatch } from '../../cli/batch-wiring.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import type { MasterDataset } from '../../shared/ports.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { createSpeedLayer } from '../../cli/speed-wiring.js';
import { clickRecords, deleteTopics, produceAll, readWholeTopic, testKafka } from '../support/archiver-kafka.js';
import { expectExactArchive } from '../support/archiver-expect.js';
import { expectRunEqualsReference } from '../support/batch-master.js';
import { clusterContext, clusterSkipReason, topicMinInsyncReplicas, topicReplicas } from '../support/cluster.js';
import { checkpointsCover } from '../support/master-read.js';
import { deletePrefix, readAllViews, viewStore, waitCaughtUp, expectEqualsReference } from '../support/speed-harness.js';
import { waitUntil } from '../support/wait.js';
import type { TestContext } from '../support/context.js';

const views = defaultViewSet();
const skip = clusterSkipReason();
if (skip) console.warn(`cluster-e2e.test.ts skipped: ${skip}`);
const DAY = 86_400_000;

describe.skipIf(skip !== null)(`end to end on the cluster topology${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let ctx: TestContext;
  let kafka: Kafka;
  let redis: RedisClient;
  let master: MasterDataset;
  const services: { stop(): Promise<void> }[] = [];
  const stores: SqliteBatchViewStore[] = [];

  beforeAll(() => {
    ctx = clusterContext({ LAMBDA_TOPIC_PARTITIONS: '4', LAMBDA_SPEED_APPLY_MAX_EVENTS: '250' });
    kafka = testKafka(ctx.config.kafka.brokers);
    redis = createRedis(ctx.config.redis.url, silentLogger(), 'cluster-e2e-test');
    master = openMasterDataset(ctx.config, silentLogger());
  });
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    for (const s of stores) s.close();
    await deleteTopics(kafka, [ctx.config.kafka.topic, ctx.config.kafka.dlqTopic]);
    await deletePrefix(redis, ctx.config.redis.keyPrefix);
    redis.disconnect();
    ctx.cleanup();
  });

  it('two speed instances and two archivers: speed views, master dataset and batch run equal the reference fold', async () => {
    const k = ctx.config.kafka;
    await ensureTopics(
      kafka,
      [
        { topic: k.topic, partitions: k.partitions },
        { topic: k.dlqTopic, partitions: k.partitions },
      ],
      k.replication,
    );
    const layout = await topicReplicas(kafka, k.topic);
    expect(layout.map((p) => p.replicas.length)).toEqual([3, 3, 3, 3]);
    expect(new Set(layout.map((p) => p.leader)).size, 'partition leaders spread over the brokers').toBeGreaterThan(1);
    expect(await topicMinInsyncReplicas(kafka, k.topic)).toBe('2');

    const records = clickRecords(4000, 1818, Date.now() - 2 * 3_600_000);
    // Copies of some ids under other keys land on other partitions: dedupe across the cluster's slots.
    const all = [...records, ...records.slice(0, 200).map((r, i) => ({ key: `copy-${i}`, value: r.value }))];
    // Half before the instances start, half while they run (they join the groups one by one).
    const half = Math.floor(all.length / 2);
    await produceAll(kafka, k.topic, all.slice(0, half));
    for (let i = 0; i < 2; i++) {
      const speed = createSpeedLayer({ config: ctx.config, views, log: silentLogger(), metrics: createMetrics(), statusIntervalMs: 200 });
      const archiver = createArchiver({ config: ctx.config, views, log: silentLogger(), metrics: createMetrics(), master });
      services.push(speed, archiver);
      await Promise.all([speed.start(), archiver.start()]);
    }
    await produceAll(kafka, k.topic, all.slice(half));

    const ends = await endOffsets(kafka, k.topic);
    expect(
      [...ends.values()].reduce((a, b) => a + b, 0),
      'the idempotent producer wrote each record once',
    ).toBe(all.length);
    await waitCaughtUp(kafka, redis, ctx.config);
    await waitUntil(() => checkpointsCover(master, k.topic, ends), Boolean, { what: 'archiver checkpoints covering the whole topic', timeoutMs: 90_000 });

    const values = all.map((r) => r.value);
    const speedViews = await readAllViews(viewStore(redis, ctx.config, views), views);
    expect(speedViews.size).toBeGreaterThan(100);
    expectEqualsReference(speedViews, values, views);

    await expectExactArchive(master, k.topic, await readWholeTopic(kafka, k.topic), views);

    const run = await runWiredBatch({ config: ctx.config, views, master, log: silentLogger() });
    expect(run.counts.eventsRead).toBeGreaterThan(0);
    const store = new SqliteBatchViewStore(ctx.config.batch.dir);
    stores.push(store);
    const groups = expectRunEqualsReference(store.openRun(), views, values, { from: Date.now() - 2 * DAY, to: Date.now() + DAY });
    expect(groups).toBe(run.counts.groups);
  });
});
