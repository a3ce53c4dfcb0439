/**
 * Fault on the cluster topology (issue 18): the broker leading partition 0 of the event topic is
 * SIGKILLed while two speed instances consume and the stream flows, records are produced while it
 * is down, then it is restarted and rejoins the in-sync replicas. Nothing is lost and nothing is
 * applied twice: each record is in the topic once (idempotent producer, acks=all, min ISR 2) and the
 * speed views equal the reference fold. Speed dedupe is off, so a record applied twice would show
 * as a doubled count instead of being absorbed as a duplicate.
 */
import { describe, expect, it } from 'vitest';
import { endOffsets } from '../../adapters/kafka/topics.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { createSpeedLayer } from '../../cli/speed-wiring.js';
import type { SpeedLayer } from '../../speed-layer/speed-layer.js';
import { produceAll } from '../support/archiver-kafka.js';
import { topicReplicas } from '../support/cluster.js';
import { faultSkipReason, kafkaNodePidFile, readPid, servicesUp, sigkill } from '../support/cluster-faults.js';
import { appliedCount, readAllViews, undedupedTruth, viewStore, waitCaughtUp, expectEqualsReference } from '../support/speed-harness.js';
import { waitUntil } from '../support/wait.js';
import { clusterStream } from '../support/cluster-stream.js';

const views = defaultViewSet();
const skip = faultSkipReason();
if (skip) console.warn(`cluster-kafka-leader-kill.test.ts skipped: ${skip}`);

describe.skipIf(skip !== null)(`partition leader broker killed mid-stream${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const layers: SpeedLayer[] = [];

  const f = clusterStream({
    name: 'cluster-kafka-fault-test',
    seed: 1803,
    restore: 'kafka-cluster',
    stop: async () => {
      await Promise.all(layers.map((l) => l.stop()));
    },
  });

  it('SIGKILL of the leader of partition 0 and its restart: every record applied once', async () => {
    const { ctx, kafka, redis, records, before, during, after } = f;
    const k = ctx.config.kafka;
    const { keyPrefix } = ctx.config.redis;
    await f.createTopics();
    for (let i = 0; i < 2; i++) {
      const layer = createSpeedLayer({ config: ctx.config, views, log: silentLogger(), metrics: createMetrics(), statusIntervalMs: 200 });
      layers.push(layer);
      await layer.start();
    }

    await produceAll(kafka, k.topic, before, 100);
    // Kill as soon as the speed layer is applying: the stream is flowing (two more thirds follow).
    const appliedAtKill = await waitUntil(
      () => appliedCount(redis, keyPrefix, k.partitions),
      (n) => n > 0,
      {
        what: 'the speed instances to apply the first records',
        timeoutMs: 60_000,
        intervalMs: 10,
      },
    );
    const leader = (await topicReplicas(kafka, k.topic))[0]!.leader;
    const killedPid = await sigkill(kafkaNodePidFile(leader));
    expect(appliedAtKill).toBeLessThan(records.length);

    // The fault landed: the cluster moved partition 0's leadership and dropped the node from the ISR.
    const moved = await waitUntil(
      () => topicReplicas(kafka, k.topic),
      (ps) => ps.every((p) => p.leader !== leader && !p.isr.includes(leader)),
      { what: `every partition to lose broker ${leader} from its leader and in-sync replicas`, timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(moved[0]!.isr).toHaveLength(2);

    // Written while the broker is down: two in-sync copies satisfy acks=all with min.insync.replicas=2.
    await produceAll(kafka, k.topic, during, 100);
    await waitUntil(
      () => appliedCount(redis, keyPrefix, k.partitions),
      (n) => n > appliedAtKill + before.length / 2,
      {
        what: `the speed instances to go on applying while broker ${leader} is down`,
        timeoutMs: 60_000,
        intervalMs: 100,
      },
    );

    await servicesUp('kafka-cluster');
    expect(readPid(kafkaNodePidFile(leader))).not.toBe(killedPid);
    await waitUntil(
      () => topicReplicas(kafka, k.topic),
      (ps) => ps.every((p) => p.isr.length === 3),
      { what: `broker ${leader} back in every partition's in-sync replicas`, timeoutMs: 90_000, intervalMs: 250 },
    );
    await produceAll(kafka, k.topic, after, 100);

    const ends = await endOffsets(kafka, k.topic);
    expect(
      [...ends.values()].reduce((a, b) => a + b, 0),
      'each record in the topic once',
    ).toBe(records.length);
    await waitCaughtUp(kafka, redis, ctx.config, 90_000);
    const truth = undedupedTruth(
      records.map((r) => r.value),
      views,
    );
    const actual = await readAllViews(viewStore(redis, ctx.config, views), views);
    expectEqualsReference(actual, truth.lines, views);
  });
});
