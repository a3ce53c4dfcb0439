/**
 * The foundation's own proof: the harness handed us a real Kafka broker and a real Redis, and a
 * record round-trips through both (kafkajs produce -> consume; ioredis write -> read).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { uniqueName } from '../support/names.js';
import { waitUntil } from '../support/wait.js';

const services = inject('services');

describe('real services from the harness', () => {
  const kafka = new Kafka({ brokers: services.kafkaBrokers, clientId: 'smoke', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const redis = new Redis(services.redisUrl, { lazyConnect: true });
  const topic = uniqueName('smoke');
  const keyPrefix = uniqueName('smoke');

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    const keys = await redis.keys(`${keyPrefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('produces to and consumes from a real topic, then round-trips the records through Redis', async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ id: `e${i}`, n: i }) }));
    await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('smoke-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void received.push(String(message.value)) });
    await waitUntil(
      () => received.length,
      (n) => n >= sent.length,
      { what: '20 records consumed', timeoutMs: 60_000 },
    );
    await consumer.disconnect();
    expect(received.sort()).toEqual(sent.map((m) => m.value).sort());

    await redis.connect();
    for (const v of received) {
      const { id, n } = JSON.parse(v) as { id: string; n: number };
      await redis.hset(`${keyPrefix}:events`, id, String(n));
    }
    const stored = await redis.hgetall(`${keyPrefix}:events`);
    expect(Object.keys(stored)).toHaveLength(20);
    expect(stored.e7).toBe('7');
    expect(services.source).toMatch(/environment|testcontainers|local/);
  });
});
