/**
 * The speed layer with its adapters: the consumer group factory, the topic offsets, the Redis
 * state store and the dead-letter sink behind the ports of shared/speed/ports.ts and shared/kafka-ports.ts (docs/design-decisions.md, "Ports"). The one place
 * that builds a SpeedLayer: the CLI's roles and the tests.
 */
import { createKafka } from '../adapters/kafka/client.js';
import { kafkaConsumerGroups } from '../adapters/kafka/consumer-group.js';
import { KafkaDeadLetterSink } from '../adapters/kafka/dead-letter-sink.js';
import { EventProducer } from '../adapters/kafka/producer.js';
import { kafkaTopicOffsets } from '../adapters/kafka/topic-offsets.js';
import { createRedis } from '../adapters/redis/client.js';
import { retentionPolicy } from '../shared/speed/retention.js';
import type { RedisClient } from '../adapters/redis/scripts.js';
import { RedisSpeedStateStore } from '../adapters/redis/speed-state-store.js';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { ViewSet } from '../shared/views/definition.js';
import { SpeedLayer } from '../speed-layer/speed-layer.js';

export interface SpeedLayerOptions {
  config: Config;
  views: ViewSet;
  log: Logger;
  metrics: Metrics;
  /** a client to use instead of one built from config.redis.url (closed by its owner) */
  redis?: RedisClient;
  /** how often progress is written to Redis and Redis's offsets are checked (default 2 s) */
  statusIntervalMs?: number;
}

export function createSpeedLayer(o: SpeedLayerOptions): SpeedLayer {
  const { config } = o;
  // The clients log as the layer does (its own child logger adds the same component).
  const clientLog = o.log.child({ component: 'speed' });
  const kafka = createKafka(config.kafka.brokers, `lambda-speed-${process.pid}`, clientLog);
  const redis = o.redis ?? createRedis(config.redis.url, clientLog, 'lambda-speed');
  return new SpeedLayer({
    config,
    views: o.views,
    log: o.log,
    metrics: o.metrics,
    statusIntervalMs: o.statusIntervalMs,
    consumers: kafkaConsumerGroups(kafka, { log: clientLog, retry: config.retry }),
    offsets: kafkaTopicOffsets(kafka, config.kafka.replication),
    store: new RedisSpeedStateStore(redis, config.redis.keyPrefix, retentionPolicy(config), config.speed.dedupeWindowMs, {
      replicaWaitMs: config.speed.replicaWaitMs,
    }),
    deadLetters: new KafkaDeadLetterSink(new EventProducer(kafka), config.kafka.dlqTopic),
    // A client passed in belongs to the caller; one made here closes with the layer.
    release: o.redis === undefined ? () => redis.disconnect() : undefined,
  });
}
