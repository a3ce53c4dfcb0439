/**
 * The archiver against a real Kafka topic and a real master dataset folder: every valid record is
 * archived exactly once and in log order, invalid ones go to the DLQ with their origin in headers,
 * and the checkpoints (hence arrivalComplete) keep moving, also for partitions that get nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { endOffsets } from '../../adapters/kafka/topics.js';
import { DLQ_HEADERS } from '../../adapters/kafka/dlq.js';
import { openMasterDataset } from '../../adapters/master/index.js';
import { arrivalComplete } from '../../shared/master/arrival-complete.js';
import type { Archiver } from '../../batch-layer/archiver/archiver.js';
import { createArchiver } from '../../cli/archiver-wiring.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics, type Metrics } from '../../platform/metrics.js';
import { INVALID_REASONS } from '../../shared/events.js';
import type { MasterDataset } from '../../shared/ports.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { clickRecords, deleteTopics, produceAll, readWholeTopic, testKafka } from '../support/archiver-kafka.js';
import { expectExactArchive, isValidRecord } from '../support/archiver-expect.js';
import { testContext, type TestContext } from '../support/context.js';
import { checkpointsCover, readMaster } from '../support/master-read.js';
import { waitUntil } from '../support/wait.js';

const views = defaultViewSet();

async function counterValue(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))
    .reduce((s, v) => s + v.value, 0);
}

describe('archiver (in process)', () => {
  let ctx: TestContext;
  let kafka: Kafka;
  let master: MasterDataset;
  let metrics: Metrics;
  let archiver: Archiver | null = null;
  const newArchiver = () => createArchiver({ config: ctx.config, log: silentLogger(), metrics, views, master });

  beforeAll(() => {
    ctx = testContext({
      LAMBDA_TOPIC_PARTITIONS: '3',
      LAMBDA_ARCHIVER_FLUSH_EVENTS: '97',
      LAMBDA_ARCHIVER_FLUSH_MS: '200',
      LAMBDA_KAFKA_SESSION_TIMEOUT_MS: '6000',
    });
    kafka = testKafka(ctx.config.kafka.brokers);
    master = openMasterDataset(ctx.config, silentLogger());
    metrics = createMetrics();
  });

  afterAll(async () => {
    await archiver?.stop();
    await deleteTopics(kafka, [ctx.config.kafka.topic, ctx.config.kafka.dlqTopic]);
    ctx.cleanup();
  });

  it('archives each valid record exactly once, in offset order, and dead-letters the invalid ones', async () => {
    const { topic, dlqTopic } = ctx.config.kafka;
    const startedAt = Date.now();
    archiver = newArchiver();
    await archiver.start();
    const records = clickRecords(2_000, 11).map((r) => ({ key: r.key, value: r.value }));
    // Valid JSON with line breaks between tokens: archived as one line, same event.
    records.push({ key: 'pretty', value: '{\n  "id": "pretty-1",\r\n  "ts": 1700000000000,\n  "type": "pageview", "url": "/p/1", "user": "u1"\n}' });
    await produceAll(kafka, topic, records);
    const ends = await endOffsets(kafka, topic);
    await waitUntil(() => checkpointsCover(master, topic, ends), Boolean, { what: 'checkpoints covering the whole topic', timeoutMs: 60_000 });

    const truth = await readWholeTopic(kafka, topic);
    expect(truth).toHaveLength(records.length);
    await expectExactArchive(master, topic, truth, views);
    const { files, total } = await readMaster(master);
    expect(files.length).toBeGreaterThan(3 * 3); // flushEvents=97: many segments per partition
    const invalid = truth.filter((r) => !isValidRecord(r, views));
    expect(invalid.length).toBeGreaterThan(20);
    expect(total).toBe(truth.length - invalid.length);
    const pretty = [...(await readMaster(master)).lines.values()].flat().filter((l) => l.includes('pretty-1'));
    expect(pretty).toHaveLength(1);
    expect(JSON.parse(pretty[0] as string)).toEqual(JSON.parse(records.at(-1)?.value as string));

    // Each segment starts right after the previous one's range, from offset 0.
    for (const p of [0, 1, 2]) {
      const firsts = files.filter((f) => f.partition === p).map((f) => f.firstOffset);
      expect(firsts[0]).toBe(0);
      expect([...firsts].sort((a, b) => a - b)).toEqual(firsts);
    }

    // DLQ: every invalid record, unchanged, with where it came from and why.
    const dlq = await readWholeTopic(kafka, dlqTopic);
    expect(dlq.map((d) => `${d.headers[DLQ_HEADERS.partition]}/${d.headers[DLQ_HEADERS.offset]}`).sort()).toEqual(
      invalid.map((r) => `${r.partition}/${r.offset}`).sort(),
    );
    for (const d of dlq) {
      const original = truth.find((r) => String(r.partition) === d.headers[DLQ_HEADERS.partition] && String(r.offset) === d.headers[DLQ_HEADERS.offset]);
      expect(d.value).toBe(original?.value ?? '');
      expect(d.headers[DLQ_HEADERS.topic]).toBe(topic);
      expect(d.headers[DLQ_HEADERS.layer]).toBe('archiver');
      expect(INVALID_REASONS).toContain(d.headers[DLQ_HEADERS.reason]);
      expect(d.headers[DLQ_HEADERS.error]?.length).toBeGreaterThan(0);
    }
    expect(await counterValue(metrics, 'lambda_invalid_events_total', { layer: 'archiver' })).toBe(invalid.length);
    expect(await counterValue(metrics, 'lambda_archiver_events_total')).toBe(total);

    // Checkpoints: all partitions, caught up, and A moves on while nothing arrives (idle heartbeat).
    const cps = await master.readCheckpoints();
    expect(cps.map((c) => [c.partition, c.lastOffset + 1])).toEqual([...ends].sort((a, b) => a[0] - b[0]));
    const a1 = arrivalComplete(cps, { topic, partitions: 3 });
    expect(a1).not.toBeNull();
    expect(a1 as number).toBeGreaterThanOrEqual(startedAt);
    await waitUntil(
      async () => arrivalComplete(await master.readCheckpoints(), { topic, partitions: 3 }) ?? 0,
      (a) => a > (a1 as number),
      {
        what: 'arrivalComplete advancing with no new records',
      },
    );
  });

  it('resumes after a clean stop from its checkpoints, without doubling anything', async () => {
    const { topic } = ctx.config.kafka;
    await archiver?.stop();
    archiver = null;
    const before = (await master.listFiles()).map((f) => f.key);
    await produceAll(
      kafka,
      topic,
      clickRecords(600, 12).map((r) => ({ key: r.key, value: r.value })),
    );
    archiver = newArchiver();
    await archiver.start();
    const ends = await endOffsets(kafka, topic);
    await waitUntil(() => checkpointsCover(master, topic, ends), Boolean, { what: 'checkpoints covering the new records', timeoutMs: 60_000 });
    await expectExactArchive(master, topic, await readWholeTopic(kafka, topic), views);
    const after = (await master.listFiles()).map((f) => f.key);
    expect(after.length).toBeGreaterThan(before.length);
    expect(after).toEqual(expect.arrayContaining(before)); // nothing renamed or removed
  });
});

describe('archiver with a partition that never receives a record', () => {
  it('still checkpoints it, so arrivalComplete is known and advances', async () => {
    const ctx = testContext({ LAMBDA_TOPIC_PARTITIONS: '2', LAMBDA_ARCHIVER_FLUSH_MS: '150', LAMBDA_KAFKA_SESSION_TIMEOUT_MS: '6000' });
    const { topic } = ctx.config.kafka;
    const kafka = testKafka(ctx.config.kafka.brokers);
    const master = openMasterDataset(ctx.config, silentLogger());
    const archiver = createArchiver({ config: ctx.config, log: silentLogger(), metrics: createMetrics(), views, master });
    try {
      await archiver.start();
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic, messages: [0, 1, 2].map((i) => ({ partition: 0, value: JSON.stringify({ id: `only-${i}`, ts: Date.now() }) })) });
      await producer.disconnect();
      const cps = await waitUntil(
        () => master.readCheckpoints(),
        (c) => c.length === 2 && c[0]?.lastOffset === 2,
        { what: 'both partitions checkpointed' },
      );
      expect(cps[1]).toMatchObject({ topic, partition: 1, lastOffset: -1 });
      const a1 = arrivalComplete(cps, { topic, partitions: 2 }) as number;
      expect(a1).not.toBeNull();
      await waitUntil(
        async () => arrivalComplete(await master.readCheckpoints(), { topic, partitions: 2 }) ?? 0,
        (a) => a > a1,
        { what: 'A advancing' },
      );
      expect((await readMaster(master)).total).toBe(3);
    } finally {
      await archiver.stop();
      await deleteTopics(kafka, [topic, ctx.config.kafka.dlqTopic]);
      ctx.cleanup();
    }
  });
});

describe('archiver across rebalances', () => {
  it('stays exact while a second archiver joins the group and the first one leaves', async () => {
    const ctx = testContext({
      LAMBDA_TOPIC_PARTITIONS: '4',
      LAMBDA_ARCHIVER_FLUSH_EVENTS: '41',
      LAMBDA_ARCHIVER_FLUSH_MS: '150',
      LAMBDA_KAFKA_SESSION_TIMEOUT_MS: '6000',
    });
    const { topic, dlqTopic } = ctx.config.kafka;
    const kafka = testKafka(ctx.config.kafka.brokers);
    const master = openMasterDataset(ctx.config, silentLogger());
    const make = () => createArchiver({ config: ctx.config, log: silentLogger(), metrics: createMetrics(), views, master });
    const first = make();
    const second = make();
    const records = clickRecords(2_400, 13).map((r) => ({ key: r.key, value: r.value }));
    const archived = async () => (await master.readCheckpoints()).reduce((s, c) => s + c.lastOffset + 1, 0);
    try {
      await first.start();
      await produceAll(kafka, topic, records.slice(0, 800), 50);
      await waitUntil(archived, (n) => n > 100, { what: 'the first archiver archiving' });
      const joining = second.start(); // rebalance: partitions are split between the two
      await produceAll(kafka, topic, records.slice(800, 1_600), 50);
      await joining;
      await first.stop(); // rebalance: the second takes every partition
      await produceAll(kafka, topic, records.slice(1_600), 50);
      const ends = await endOffsets(kafka, topic);
      await waitUntil(() => checkpointsCover(master, topic, ends), Boolean, { what: 'the whole topic archived', timeoutMs: 90_000 });
      await expectExactArchive(master, topic, await readWholeTopic(kafka, topic), views);
    } finally {
      await first.stop();
      await second.stop();
      await deleteTopics(kafka, [topic, dlqTopic]);
      ctx.cleanup();
    }
  });
});
