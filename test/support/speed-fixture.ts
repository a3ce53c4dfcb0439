/**
 * What a speed-layer integration test sets up and tears down: a speedContext (unique topic, DLQ,
 * key prefix, data folder), a Kafka client and a Redis client, with the event topic and its DLQ
 * created; `cleanup` deletes the topics and every key of the prefix.
 */
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { ensureTopics } from '../../adapters/kafka/topics.js';
import { deleteTopics, testKafka } from './archiver-kafka.js';
import type { TestContext } from './context.js';
import { deletePrefix, speedContext } from './speed-harness.js';

export interface SpeedFixture {
  ctx: TestContext;
  kafka: Kafka;
  redis: Redis;
  cleanup(): Promise<void>;
}

export async function speedFixture(overrides: Record<string, string> = {}): Promise<SpeedFixture> {
  const ctx = speedContext(overrides);
  const kafka = testKafka(ctx.config.kafka.brokers);
  const redis = new Redis(ctx.config.redis.url);
  const k = ctx.config.kafka;
  await ensureTopics(kafka, [
    { topic: k.topic, partitions: k.partitions },
    { topic: k.dlqTopic, partitions: 1 },
  ]);
  return {
    ctx,
    kafka,
    redis,
    async cleanup() {
      await deleteTopics(kafka, [k.topic, k.dlqTopic]);
      await deletePrefix(redis, ctx.config.redis.keyPrefix);
      redis.disconnect();
      ctx.cleanup();
    },
  };
}
