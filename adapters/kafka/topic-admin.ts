/**
 * The archiver's TopicAdmin port (shared/kafka-ports.ts) on one kafkajs client: topic creation and
 * the timestamp type through the functions of topics.ts (an admin connection each, used once at
 * start), the partition offsets on one admin connection held from start() to stop() (read on
 * every flush that reaches the partition end, and by the idle heartbeat).
 */
import type { Admin, Kafka } from 'kafkajs';
import type { PartitionOffsets, TimestampType, TopicAdmin } from '../../shared/kafka-ports.js';
import type { ReplicationSetting } from './replication.js';
import { ensureTopics, topicTimestampType } from './topics.js';

export class KafkaTopicAdmin implements TopicAdmin {
  private readonly admin: Admin;

  /** `replication` (LAMBDA_TOPIC_REPLICATION): how the topics this creates are replicated. */
  constructor(
    private readonly kafka: Kafka,
    private readonly replication: ReplicationSetting = 'auto',
  ) {
    this.admin = kafka.admin();
  }

  start(): Promise<void> {
    return this.admin.connect();
  }

  stop(): Promise<void> {
    return this.admin.disconnect();
  }

  ensureTopics(topics: readonly { topic: string; partitions: number }[]): Promise<void> {
    return ensureTopics(this.kafka, topics, this.replication);
  }

  timestampType(topic: string): Promise<TimestampType> {
    return topicTimestampType(this.kafka, topic);
  }

  async partitionOffsets(topic: string): Promise<PartitionOffsets[]> {
    return (await this.admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }));
  }
}
