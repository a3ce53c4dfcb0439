/**
 * The archiver with its adapters: the consumer group factory, the topic admin and the dead-letter
 * sink on one kafkajs client, behind the ports of shared/kafka-ports.ts and shared/ports.ts
 * (docs/design-decisions.md, "Ports", "Consumer groups"). The one place that builds an Archiver:
 * the CLI's roles and the tests.
 */
import { createKafka } from '../adapters/kafka/client.js';
import { kafkaConsumerGroups } from '../adapters/kafka/consumer-group.js';
import { KafkaDeadLetterSink } from '../adapters/kafka/dead-letter-sink.js';
import { EventProducer } from '../adapters/kafka/producer.js';
import { KafkaTopicAdmin } from '../adapters/kafka/topic-admin.js';
import { Archiver } from '../batch-layer/archiver/archiver.js';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { MasterDataset } from '../shared/ports.js';
import type { ViewSet } from '../shared/views/definition.js';

export interface ArchiverOptions {
  config: Config;
  views: ViewSet;
  log: Logger;
  metrics: Metrics;
  master: MasterDataset;
  /** injectable clock */
  now?: () => number;
}

export function createArchiver(o: ArchiverOptions): Archiver {
  const { config } = o;
  // The clients log as the archiver does (its own child logger adds the same component).
  const clientLog = o.log.child({ component: 'archiver' });
  const kafka = createKafka(config.kafka.brokers, `${config.archiver.groupId}-client`, clientLog);
  return new Archiver({
    config,
    views: o.views,
    log: o.log,
    metrics: o.metrics,
    master: o.master,
    now: o.now,
    consumers: kafkaConsumerGroups(kafka, { log: clientLog, retry: config.retry }),
    admin: new KafkaTopicAdmin(kafka, config.kafka.replication),
    deadLetters: new KafkaDeadLetterSink(new EventProducer(kafka), config.kafka.dlqTopic),
  });
}
