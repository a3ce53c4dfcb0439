/**
 * Exactly-once effect under crashes and replays: the speed layer runs as a child process and is
 * SIGKILLed several times while the stream flows; after it catches up, its views equal the
 * reference fold exactly. Then the group is reset to offset 0 (a replay) and a zombie re-applies
 * the whole log straight through the Lua script: nothing changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { endOffsets, ensureTopics } from '../../adapters/kafka/topics.js';
import { retentionPolicy } from '../../shared/speed/retention.js';
import { RedisSpeedStateStore } from '../../adapters/redis/speed-state-store.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { parseRecords, planBatch } from '../../speed-layer/plan.js';
import { clickRecords, deleteTopics, produceAll, readWholeTopic, testKafka } from '../support/archiver-kafka.js';
import {
  appliedCount,
  deletePrefix,
  readAllViews,
  spawnSpeed,
  speedContext,
  viewStore,
  waitCaughtUp,
  type SpeedProcess,
  expectEqualsReference,
} from '../support/speed-harness.js';
import { waitUntil } from '../support/wait.js';
import type { TestContext } from '../support/context.js';

const views = defaultViewSet();

describe('speed layer crash and replay', () => {
  let ctx: TestContext;
  let kafka: Kafka;
  let redis: Redis;
  let proc: SpeedProcess | null = null;

  beforeAll(async () => {
    ctx = speedContext({ LAMBDA_SPEED_APPLY_MAX_EVENTS: '40' });
    kafka = testKafka(ctx.config.kafka.brokers);
    redis = new Redis(ctx.config.redis.url);
    await ensureTopics(kafka, [{ topic: ctx.config.kafka.topic, partitions: ctx.config.kafka.partitions }]);
  });

  afterAll(async () => {
    proc?.child.kill('SIGKILL');
    await proc?.exited;
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([ctx.config.speed.groupId]).catch(() => undefined);
    await admin.disconnect();
    await deleteTopics(kafka, [ctx.config.kafka.topic, ctx.config.kafka.dlqTopic]);
    await deletePrefix(redis, ctx.config.redis.keyPrefix);
    redis.disconnect();
    ctx.cleanup();
  });

  it('survives SIGKILL mid-stream, a group reset to offset 0 and a zombie replay with views equal to the reference', async () => {
    const records = clickRecords(4000, 77, Date.now() - 2 * 3_600_000);
    const waves = Array.from({ length: 8 }, (_, i) => records.slice(i * 500, (i + 1) * 500));
    const log = join(ctx.dataDir, 'speed.log');
    const { keyPrefix } = ctx.config.redis;
    const partitions = ctx.config.kafka.partitions;
    proc = spawnSpeed(ctx.config, log);

    let produced = 0;
    let midStreamKills = 0;
    for (const [i, wave] of waves.entries()) {
      await produceAll(
        kafka,
        ctx.config.kafka.topic,
        wave.map((r) => ({ key: r.key, value: r.value })),
        100,
      );
      const before = produced;
      produced += wave.length;
      if (i % 2 === 1 && i < 7) {
        // Kill as soon as this wave is being applied: the stream is still flowing (more waves follow).
        const applied = await waitUntil(
          () => appliedCount(redis, keyPrefix, partitions),
          (n) => n > before,
          {
            what: `speed layer progress into wave ${i} (see ${log})`,
            timeoutMs: 90_000,
            intervalMs: 10,
          },
        );
        proc.child.kill('SIGKILL');
        expect(await proc.exited).toBe(null);
        if (applied < produced) midStreamKills++;
        proc = spawnSpeed(ctx.config, log);
      }
    }
    await waitCaughtUp(kafka, redis, ctx.config, 120_000);
    const values = records.map((r) => r.value);
    const store = viewStore(redis, ctx.config, views);
    const afterCrashes = await readAllViews(store, views);
    expectEqualsReference(afterCrashes, values, views);
    console.info(`speed crash test: ${midStreamKills} of 3 kills landed inside a wave being applied`);

    // A clean stop (SIGTERM) exits 0.
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    proc = null;

    // Replay: the group's Kafka offsets go back to 0. The restarted consumer seeks to Redis's
    // offsets (committing them), and nothing is applied twice.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.resetOffsets({ groupId: ctx.config.speed.groupId, topic: ctx.config.kafka.topic, earliest: true });
      proc = spawnSpeed(ctx.config, log);
      const ends = await endOffsets(kafka, ctx.config.kafka.topic);
      await waitUntil(
        async () => (await admin.fetchOffsets({ groupId: ctx.config.speed.groupId, topics: [ctx.config.kafka.topic] }))[0]?.partitions ?? [],
        (ps) => ps.length === ends.size && ps.every((p) => Number(p.offset) === ends.get(p.partition)),
        { what: 'the restarted consumer to move the reset group back to the offsets stored in Redis', timeoutMs: 60_000 },
      );
    } finally {
      await admin.disconnect();
    }
    expect(await readAllViews(store, views)).toEqual(afterCrashes);

    // A zombie that planned against offset 0 re-applies the whole log: the script refuses.
    const stateStore = new RedisSpeedStateStore(redis, keyPrefix, retentionPolicy(ctx.config), ctx.config.speed.dedupeWindowMs);
    const log0 = await readWholeTopic(kafka, ctx.config.kafka.topic);
    for (let p = 0; p < partitions; p++) {
      const mine = log0.filter((r) => r.partition === p);
      const plan = planBatch({
        partition: p,
        records: parseRecords(mine, views),
        claims: new Uint8Array(mine.length),
        expectedNext: 0,
        views,
        dedupe: true,
        watermark: null,
        allowedLatenessMs: 60_000,
        nowMs: Date.now(),
      });
      expect(await stateStore.apply(plan.apply)).toEqual({ applied: false, storedNext: mine.length });
    }
    expect(await readAllViews(store, views)).toEqual(afterCrashes);
  });
});
