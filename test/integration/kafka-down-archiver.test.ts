/**
 * Kafka goes down under a running archiver (a broker of the test's own, stopped with SIGTERM while
 * records are still arriving) and comes back: the archiver keeps running and retrying instead of
 * dying, its checkpoints stand still while Kafka is away, and once Kafka is back the master dataset
 * holds every valid record of the topic exactly once, in log order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endOffsets, ensureTopics } from '../../adapters/kafka/topics.js';
import { openMasterDataset } from '../../adapters/master/index.js';
import type { Archiver } from '../../batch-layer/archiver/archiver.js';
import { createArchiver } from '../../cli/archiver-wiring.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { expectExactArchive } from '../support/archiver-expect.js';
import { clickRecords, produceAll, readWholeTopic, testKafka } from '../support/archiver-kafka.js';
import { testContext, type TestContext } from '../support/context.js';
import { capturingLogger, feed, startPrivateKafka, stopWithin, type PrivateKafka } from '../support/kafka-broker.js';
import { checkpointsCover, readMaster } from '../support/master-read.js';
import { waitUntil } from '../support/wait.js';

const views = defaultViewSet();

describe('archiver when Kafka goes down', () => {
  let broker: PrivateKafka | undefined;
  let ctx: TestContext | undefined;
  let archiver: Archiver | null = null;

  beforeAll(async () => {
    broker = await startPrivateKafka();
  });

  // The topics go with the private broker's data; an archiver stuck on a dead broker does not hold up the rest.
  afterAll(async () => {
    await stopWithin(archiver, 30_000);
    await broker?.close();
    ctx?.cleanup();
  });

  it('keeps running with its checkpoints still while Kafka is down, then archives everything exactly once', async () => {
    if (!broker) throw new Error('no private broker');
    ctx = testContext({
      KAFKA_BROKERS: broker.brokers.join(','),
      LAMBDA_ARCHIVER_FLUSH_MS: '200',
      LAMBDA_ARCHIVER_FLUSH_EVENTS: '97',
      LAMBDA_KAFKA_SESSION_TIMEOUT_MS: '6000',
      LAMBDA_RETRY_MAX_MS: '1000',
    });
    const config = ctx.config;
    const kafka = testKafka(broker.brokers);
    const master = openMasterDataset(config, silentLogger());
    const { topic, dlqTopic, partitions } = config.kafka;
    await ensureTopics(kafka, [
      { topic, partitions },
      { topic: dlqTopic, partitions },
    ]);
    const records = clickRecords(3000, 31, Date.now() - 2 * 3_600_000);
    const { log, lines } = capturingLogger();
    const metrics = createMetrics();
    // Crashes kafkajs restarts itself, none the consumer group had to restart (docs/design-decisions.md, "Consumer groups").
    const restarts = async () => (await metrics.registry.getSingleMetric('lambda_archiver_consumer_restarts_total')?.get())?.values[0]?.value ?? 0;
    archiver = createArchiver({ config, log, metrics, views, master });
    await archiver.start();

    // Kafka stops while records are still arriving and being archived.
    const feeder = feed(kafka, topic, records.slice(0, 2000));
    await waitUntil(
      async () => (await readMaster(master)).total,
      (n) => n >= 300,
      { what: 'the archiver to write the first segments', timeoutMs: 60_000 },
    );
    const stopping = broker.stop();
    feeder.stop();
    await stopping;

    // Down for longer than the consumer session: the archiver keeps logging its retries (so it is
    // alive) and no checkpoint moves (a checkpoint follows a commit, which needs Kafka).
    const downAt = Date.now();
    const down = lines.length;
    const checkpoints = async () =>
      (await master.readCheckpoints()).filter((c) => c.topic === topic).map((c) => [c.partition, c.lastOffset, c.completeThrough]);
    await waitUntil(
      () => lines.slice(down).filter((l) => l.level >= 40).length,
      (n) => n >= 3,
      { what: 'the archiver to notice that Kafka is down', timeoutMs: 60_000 },
    );
    const settled = await checkpoints();
    const outageMs = 2 * config.kafka.sessionTimeoutMs;
    await waitUntil(
      () => lines.at(-1)?.time ?? 0,
      (t) => t > downAt + outageMs,
      { what: `the archiver still retrying ${outageMs} ms into the outage`, timeoutMs: outageMs + 30_000, intervalMs: 500 },
    );
    expect(await checkpoints()).toEqual(settled);
    expect(await restarts()).toBe(0);

    // Back: more records; every valid record of the topic is archived once, in order.
    await broker.start();
    await feeder.done;
    await produceAll(
      kafka,
      topic,
      records.slice(2000).map((r) => ({ key: r.key, value: r.value })),
    );
    const ends = await endOffsets(kafka, topic);
    await waitUntil(() => checkpointsCover(master, topic, ends), Boolean, { what: 'checkpoints covering the whole topic after the outage', timeoutMs: 90_000 });
    const truth = await readWholeTopic(kafka, topic);
    expect(truth.length).toBeGreaterThan(1000);
    await expectExactArchive(master, topic, truth, views);
    expect(await restarts()).toBe(0);
  });
});
