/**
 * Hostile events produced straight to Kafka, bypassing HTTP (issue 14): an event nested 5,000
 * arrays deep, a 500,000-character url, a visitor id past 2^53 and an amount of 1e400, between
 * valid events. The speed layer and the archiver, running side by side on the topic, must each
 * dead-letter every hostile record once with reason bad_field naming the field, keep consuming
 * (the valid events after them are counted and archived), and never crash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { DLQ_HEADERS } from '../../adapters/kafka/dlq.js';
import { endOffsets } from '../../adapters/kafka/topics.js';
import { openMasterDataset } from '../../adapters/master/index.js';
import type { Archiver } from '../../batch-layer/archiver/archiver.js';
import { createArchiver } from '../../cli/archiver-wiring.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { createSpeedLayer } from '../../cli/speed-wiring.js';
import type { SpeedLayer } from '../../speed-layer/speed-layer.js';
import { produceAll, readWholeTopic } from '../support/archiver-kafka.js';
import { checkpointsCover, readMaster } from '../support/master-read.js';
import { readAllViews, viewStore, waitCaughtUp, expectEqualsReference } from '../support/speed-harness.js';
import type { TestContext } from '../support/context.js';
import { speedFixture, type SpeedFixture } from '../support/speed-fixture.js';
import { waitUntil } from '../support/wait.js';

const views = defaultViewSet();
const now = Date.now() - 30 * 60_000;

/** key -> [value, the start of the DLQ message expected for it] */
const hostile: Record<string, [string, string]> = {
  deep: [
    `{"id":"deep","ts":${now},"type":"pageview","url":"/a","x":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    'field "x" nests arrays or objects more than 32 levels deep',
  ],
  long: [
    JSON.stringify({ id: 'long', ts: now, type: 'pageview', url: `/${'x'.repeat(499_999)}`, user: 'u1' }),
    'field "url" is 500000 characters long; at most 1024',
  ],
  huge: [`{"id":"huge","ts":${now},"type":"pageview","url":"/a","user":9007199254740993}`, 'field "user" is 9007199254740992, beyond'],
  infinite: [`{"id":"infinite","ts":${now},"type":"purchase","country":"DE","amount":1e400}`, 'field "amount" is not a finite number'],
};

function valid(i: number): { key: string; value: string } {
  const body = i % 3 === 0 ? { type: 'purchase', country: ['DE', 'FR'][i % 2], amount: i + 0.5 } : { type: 'pageview', url: `/p/${i % 5}`, user: `u${i % 7}` };
  return { key: `ok-${i}`, value: JSON.stringify({ id: `ok-${i}`, ts: now + i * 1000, ...body }) };
}

describe('hostile events straight to Kafka', () => {
  let ctx: TestContext;
  let kafka: Kafka;
  let redis: Redis;
  let speed: SpeedLayer | null = null;
  let archiver: Archiver | null = null;

  let fixture: SpeedFixture;

  beforeAll(async () => {
    fixture = await speedFixture({ LAMBDA_TOPIC_PARTITIONS: '2' });
    ({ ctx, kafka, redis } = fixture);
  });

  afterAll(async () => {
    await speed?.stop();
    await archiver?.stop();
    await fixture.cleanup();
  });

  it('the speed layer and the archiver dead-letter them as bad_field and go on with the valid events', async () => {
    const { topic, dlqTopic } = ctx.config.kafka;
    const before = Array.from({ length: 60 }, (_, i) => valid(i));
    const after = Array.from({ length: 60 }, (_, i) => valid(60 + i));
    const bad = Object.entries(hostile).map(([key, [value]]) => ({ key, value }));
    // Hostile records in the middle of each partition's log: what follows them must still count.
    const records = [...before, ...bad, ...after];
    await produceAll(kafka, topic, records);

    const log = silentLogger();
    const master = openMasterDataset(ctx.config, log);
    speed = createSpeedLayer({ config: ctx.config, views, log, metrics: createMetrics() });
    archiver = createArchiver({ config: ctx.config, log, metrics: createMetrics(), views, master });
    await Promise.all([speed.start(), archiver.start()]);
    await waitCaughtUp(kafka, redis, ctx.config);
    const ends = await endOffsets(kafka, topic);
    await waitUntil(() => checkpointsCover(master, topic, ends), Boolean, { what: 'archiver checkpoints covering the whole topic', timeoutMs: 60_000 });

    // Speed: the views hold exactly the valid events.
    const validValues = [...before, ...after].map((r) => r.value);
    const actual = await readAllViews(viewStore(redis, ctx.config, views), views);
    expectEqualsReference(actual, validValues, views);

    // Archiver: the master dataset holds exactly the valid events.
    const archived = [...(await readMaster(master)).lines.values()].flat();
    expect(archived.sort()).toEqual([...validValues].sort());

    // DLQ: each hostile record once per layer, unchanged, reason bad_field, the field named.
    const letters = await waitUntil(
      () => readWholeTopic(kafka, dlqTopic),
      (l) => l.length >= 2 * bad.length,
      { what: 'every dead letter of both layers', timeoutMs: 60_000 },
    );
    expect(letters).toHaveLength(2 * bad.length);
    for (const layer of ['speed', 'archiver']) {
      const mine = letters.filter((l) => l.headers[DLQ_HEADERS.layer] === layer);
      expect(mine.map((l) => l.key).sort(), layer).toEqual(Object.keys(hostile).sort());
      for (const l of mine) {
        const [value, message] = hostile[l.key as string] as [string, string];
        expect(l.value === value, `${layer} ${l.key}: value unchanged`).toBe(true);
        expect(l.headers[DLQ_HEADERS.reason], `${layer} ${l.key}`).toBe('bad_field');
        expect(l.headers[DLQ_HEADERS.error], `${layer} ${l.key}`).toContain(message);
      }
    }
  });
});
