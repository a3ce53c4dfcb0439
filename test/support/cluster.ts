/**
 * The cluster topology for the tests (issue 18): three Kafka brokers (KAFKA_CLUSTER_BROKERS, which
 * scripts/test.sh sets after `services.sh up kafka-cluster`) and the Redis Cluster the global setup
 * starts. `clusterSkipReason` is null when both are there, else the sentence a skipped test shows.
 * `clusterContext` is a speed-test context on them.
 */
import { inject } from 'vitest';
import type { Kafka } from 'kafkajs';
import { speedContext } from './speed-harness.js';
import type { TestContext } from './context.js';

export function clusterSkipReason(): string | null {
  const services = inject('services');
  if (services.kafkaClusterBrokers.length < 3) {
    return 'KAFKA_CLUSTER_BROKERS is not set: start the cluster with `bash scripts/services.sh up kafka-cluster` and export the KAFKA_BROKERS it prints as KAFKA_CLUSTER_BROKERS (scripts/test.sh does both)';
  }
  if (!services.redisClusterUrl) return 'no Redis Cluster (REDIS_CLUSTER_URL or scripts/services.sh up redis-cluster)';
  return null;
}

/** A speed-test context whose Kafka is the three-broker cluster and whose Redis is the Redis Cluster. */
export function clusterContext(overrides: Record<string, string> = {}): TestContext {
  const services = inject('services');
  return speedContext({ KAFKA_BROKERS: services.kafkaClusterBrokers.join(','), REDIS_URL: services.redisClusterUrl, ...overrides });
}

export interface PartitionReplicas {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/** Leader, replicas and in-sync replicas of every partition, from the cluster's metadata now. */
export async function topicReplicas(kafka: Kafka, topic: string): Promise<PartitionReplicas[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return (meta.topics[0]?.partitions ?? [])
      .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: [...p.replicas].sort(), isr: [...p.isr].sort() }))
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

/** The topic's own `min.insync.replicas`, as the brokers report it. */
export async function topicMinInsyncReplicas(kafka: Kafka, topic: string): Promise<string | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // 2 = kafkajs' ConfigResourceTypes.TOPIC (not a named ES export of the CommonJS module).
    const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic, configNames: ['min.insync.replicas'] }] });
    return res.resources[0]?.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue;
  } finally {
    await admin.disconnect();
  }
}
