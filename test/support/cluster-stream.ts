/**
 * The setup the cluster fault tests share (issue 18): a context on the local Kafka and Redis
 * clusters (4 partitions, 100-event applies, speed dedupe off), their clients, the event and DLQ
 * topics created with the cluster's replication, and 6000 click records cut into the thirds
 * produced before, during and after the fault. afterAll stops what the test started, brings back
 * the service the test may have killed (whatever happened), deletes the topics and the key prefix.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Kafka } from 'kafkajs';
import { createRedis } from '../../adapters/redis/client.js';
import type { RedisClient } from '../../adapters/redis/scripts.js';
import { ensureTopics } from '../../adapters/kafka/topics.js';
import { silentLogger } from '../../platform/logger.js';
import { clickRecords, deleteTopics, testKafka } from './archiver-kafka.js';
import { clusterContext } from './cluster.js';
import { servicesUp } from './cluster-faults.js';
import { deletePrefix } from './speed-harness.js';
import type { TestContext } from './context.js';

type Record_ = { key: string | null; value: string };

export interface ClusterStream {
  ctx: TestContext;
  kafka: Kafka;
  redis: RedisClient;
  records: Record_[];
  before: Record_[];
  during: Record_[];
  after: Record_[];
  /** creates the event and DLQ topics with the cluster's replication */
  createTopics(): Promise<void>;
}

export interface ClusterStreamOptions {
  /** client name of the test's own Redis connection */
  name: string;
  /** seed of the click records */
  seed: number;
  env?: Record<string, string>;
  /** stops what the test started (speed layers, child processes), first thing in afterAll */
  stop?: () => Promise<void>;
  /** the service the test kills, brought back up in afterAll */
  restore?: 'kafka-cluster' | 'redis-cluster';
}

/** Registers the file's beforeAll/afterAll; the returned object is filled in before the first test. */
export function clusterStream(o: ClusterStreamOptions): ClusterStream {
  const s = {} as ClusterStream;
  beforeAll(() => {
    s.ctx = clusterContext({ LAMBDA_TOPIC_PARTITIONS: '4', LAMBDA_SPEED_APPLY_MAX_EVENTS: '100', LAMBDA_SPEED_DEDUPE: 'false', ...o.env });
    s.kafka = testKafka(s.ctx.config.kafka.brokers);
    s.redis = createRedis(s.ctx.config.redis.url, silentLogger(), o.name);
    s.records = clickRecords(6000, o.seed, Date.now() - 2 * 3_600_000).map((r) => ({ key: r.key, value: r.value }));
    [s.before, s.during, s.after] = [s.records.slice(0, 2000), s.records.slice(2000, 4000), s.records.slice(4000)];
    s.createTopics = () => {
      const k = s.ctx.config.kafka;
      return ensureTopics(
        s.kafka,
        [
          { topic: k.topic, partitions: k.partitions },
          { topic: k.dlqTopic, partitions: k.partitions },
        ],
        k.replication,
      );
    };
  });
  afterAll(async () => {
    await o.stop?.();
    // Whatever happened in the test, the cluster is left whole for the next one.
    if (o.restore) await servicesUp(o.restore);
    await deleteTopics(s.kafka, [s.ctx.config.kafka.topic, s.ctx.config.kafka.dlqTopic]);
    await deletePrefix(s.redis, s.ctx.config.redis.keyPrefix);
    s.redis.disconnect();
    s.ctx.cleanup();
  });
  return s;
}
