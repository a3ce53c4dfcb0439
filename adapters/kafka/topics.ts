/** Creates the event topic and its dead-letter topic if missing (idempotent, safe to race). */
import type { Kafka } from 'kafkajs';
import type { TopicLayout } from '../../shared/batch/ports.js';
import type { TimestampType } from '../../shared/kafka-ports.js';
import { topicReplication, type ReplicationSetting } from './replication.js';

export type { TimestampType };

/** kafkajs' ConfigResourceTypes.TOPIC (the CommonJS module does not expose it as a named ES export). */
const TOPIC_RESOURCE = 2;

/** `replication`: LAMBDA_TOPIC_REPLICATION; 'auto' sizes it from the cluster (adapters/kafka/replication.ts). */
export async function ensureTopics(
  kafka: Kafka,
  topics: readonly { topic: string; partitions: number }[],
  replication: ReplicationSetting = 'auto',
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return;
    const copies = topicReplication(replication, (await admin.describeCluster()).brokers.length);
    try {
      await admin.createTopics({
        waitForLeaders: true,
        // LogAppendTime: record timestamps are the broker's arrival times, growing along each
        // partition, which is what the archiver's completeThrough may rest on (docs/design-decisions.md).
        // An existing topic is left as it is (the archiver warns when it is CreateTime).
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          replicationFactor: copies.replicationFactor,
          configEntries: [
            { name: 'message.timestamp.type', value: 'LogAppendTime' },
            { name: 'min.insync.replicas', value: String(copies.minInsyncReplicas) },
          ],
        })),
      });
    } catch (err) {
      // Another process may have created it between listTopics and createTopics.
      if (!/already exists/i.test(String((err as Error).message ?? err))) throw err;
    }
  } finally {
    await admin.disconnect();
  }
}

/** The topic's real partitions, from the cluster metadata (never auto-creates the topic). */
export async function describeTopic(kafka: Kafka, topic: string): Promise<TopicLayout> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return { exists: false, partitions: [], hasRecords: false };
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = (meta.topics.find((t) => t.name === topic)?.partitions ?? []).map((p) => p.partitionId).sort((a, b) => a - b);
    const offsets = await admin.fetchTopicOffsets(topic);
    return { exists: true, partitions, hasRecords: offsets.some((o) => Number(o.high) > Number(o.low)) };
  } finally {
    await admin.disconnect();
  }
}

/** The topic's `message.timestamp.type` as the broker reports it. */
export async function topicTimestampType(kafka: Kafka, topic: string): Promise<TimestampType> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const res = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: ['message.timestamp.type'] }],
    });
    const value = res.resources[0]?.configEntries.find((e) => e.configName === 'message.timestamp.type')?.configValue;
    return value === 'LogAppendTime' || value === 'CreateTime' ? value : 'unknown';
  } finally {
    await admin.disconnect();
  }
}

/** Per partition, the log start offset (`low`: the first offset Kafka still holds) and the end (`high`). */
async function topicOffsets(kafka: Kafka, topic: string, which: 'low' | 'high'): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o[which])]));
  } finally {
    await admin.disconnect();
  }
}

/** Latest offset (the next offset to be written) per partition. */
export function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  return topicOffsets(kafka, topic, 'high');
}

/** Per partition, the log start offset: the first offset Kafka still holds (retention moves it). */
export function logStartOffsets(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  return topicOffsets(kafka, topic, 'low');
}

/** Kafka's offsetsForTimes: per partition, the first offset whose record timestamp is >= ts. */
export async function offsetsForTime(kafka: Kafka, topic: string, ts: number): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, ts);
    return new Map(offsets.map((o) => [o.partition, Number(o.offset)]));
  } finally {
    await admin.disconnect();
  }
}
