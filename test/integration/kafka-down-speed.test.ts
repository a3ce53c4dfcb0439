/**
 * Kafka goes down under a running speed layer (a broker of the test's own, stopped with SIGTERM
 * while records are still arriving) and comes back: the layer keeps running and retrying instead
 * of crashing, applies nothing while Kafka is away (its offsets in Redis stand still), and once
 * Kafka is back it catches up, ending equal to the reference fold of everything in the topic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { DLQ_HEADERS } from '../../adapters/kafka/dlq.js';
import { ensureTopics } from '../../adapters/kafka/topics.js';
import { createMetrics } from '../../platform/metrics.js';
import { parseEventLine } from '../../shared/events.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { createSpeedLayer } from '../../cli/speed-wiring.js';
import type { SpeedLayer } from '../../speed-layer/speed-layer.js';
import { clickRecords, produceAll, readWholeTopic, testKafka } from '../support/archiver-kafka.js';
import type { TestContext } from '../support/context.js';
import { capturingLogger, feed, startPrivateKafka, stopWithin, type PrivateKafka } from '../support/kafka-broker.js';
import {
  appliedCount,
  deletePrefix,
  readAllViews,
  speedContext,
  storedOffsets,
  viewStore,
  waitCaughtUp,
  expectEqualsReference,
} from '../support/speed-harness.js';
import { waitUntil } from '../support/wait.js';

const views = defaultViewSet();

describe('speed layer when Kafka goes down', () => {
  let broker: PrivateKafka | undefined;
  let ctx: TestContext | undefined;
  let redis: Redis | undefined;
  let layer: SpeedLayer | null = null;

  beforeAll(async () => {
    broker = await startPrivateKafka();
  });

  // The topics go with the private broker's data; a layer stuck on a dead broker does not hold up the rest.
  afterAll(async () => {
    await stopWithin(layer, 30_000);
    if (redis && ctx) await deletePrefix(redis, ctx.config.redis.keyPrefix);
    redis?.disconnect();
    await broker?.close();
    ctx?.cleanup();
  });

  it('keeps running without advancing while Kafka is down, then catches up to exactly the reference', async () => {
    if (!broker) throw new Error('no private broker');
    ctx = speedContext({ KAFKA_BROKERS: broker.brokers.join(','), LAMBDA_SPEED_APPLY_MAX_EVENTS: '50', LAMBDA_RETRY_MAX_MS: '1000' });
    const kafka = testKafka(broker.brokers);
    const config = ctx.config;
    const client = new Redis(config.redis.url);
    redis = client;
    const { topic, dlqTopic, partitions } = config.kafka;
    const prefix = config.redis.keyPrefix;
    await ensureTopics(kafka, [
      { topic, partitions },
      { topic: dlqTopic, partitions },
    ]);
    const records = clickRecords(3000, 29, Date.now() - 2 * 3_600_000);
    const { log, lines } = capturingLogger();
    layer = createSpeedLayer({ config, views, log, metrics: createMetrics(), statusIntervalMs: 200 });
    await layer.start();

    // Kafka stops while records are still arriving and being applied.
    const feeder = feed(kafka, topic, records.slice(0, 2000));
    await waitUntil(
      () => appliedCount(client, prefix, partitions),
      (n) => n >= 300,
      { what: 'the speed layer to apply the first records', timeoutMs: 60_000 },
    );
    const stopping = broker.stop();
    feeder.stop();
    await stopping;

    // Down: the layer notices and keeps retrying; its offsets stand still. The outage lasts longer
    // than the consumer session, and the layer's own status reports (written to Redis every 200 ms)
    // show it alive all along.
    const downAt = Date.now();
    const down = lines.length;
    const warningsSince = (from: number) => lines.slice(from).filter((l) => l.level >= 40).length;
    await waitUntil(
      () => warningsSince(down),
      (n) => n >= 3,
      { what: 'the speed layer to notice that Kafka is down', timeoutMs: 60_000 },
    );
    const settled = await storedOffsets(client, prefix, partitions);
    const outageMs = 2 * config.kafka.sessionTimeoutMs;
    const lastReport = async () => Math.max(0, ...(await viewStore(client, config, views).status()).partitions.map((p) => p.updatedAt ?? 0));
    await waitUntil(lastReport, (t) => t > downAt + outageMs, {
      what: `status reports from the speed layer ${outageMs} ms into the outage`,
      timeoutMs: outageMs + 30_000,
      intervalMs: 500,
    });
    expect(await storedOffsets(client, prefix, partitions)).toEqual(settled);
    expect(warningsSince(down)).toBeGreaterThan(3);

    // Back: more records; everything in the topic ends up in the views exactly once.
    await broker.start();
    await feeder.done;
    await produceAll(
      kafka,
      topic,
      records.slice(2000).map((r) => ({ key: r.key, value: r.value })),
    );
    await waitCaughtUp(kafka, client, config, 120_000);
    const truth = await readWholeTopic(kafka, topic);
    expect(truth.length).toBeGreaterThan(1000);
    const actual = await readAllViews(viewStore(client, config, views), views);
    expectEqualsReference(
      actual,
      truth.map((r) => r.value ?? ''),
      views,
    );
    // Dead letters whose send failed during the outage were sent again, not lost.
    const invalid = truth.filter((r) => r.value === null || !parseEventLine(r.value, views).ok).map((r) => `${r.partition}:${r.offset}`);
    expect(invalid.length).toBeGreaterThan(20);
    const dlq = await readWholeTopic(kafka, dlqTopic);
    const dead = new Set(dlq.map((r) => `${r.headers[DLQ_HEADERS.partition]}:${r.headers[DLQ_HEADERS.offset]}`));
    expect(invalid.filter((k) => !dead.has(k))).toEqual([]);
  });
});
