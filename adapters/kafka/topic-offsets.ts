/** The speed layer's TopicOffsets port (shared/speed/ports.ts) on one Kafka client: the functions of topics.ts. */
import type { Kafka } from 'kafkajs';
import type { TopicOffsets } from '../../shared/speed/ports.js';
import type { ReplicationSetting } from './replication.js';
import { endOffsets, ensureTopics, logStartOffsets, offsetsForTime } from './topics.js';

/** `replication` (LAMBDA_TOPIC_REPLICATION) is how the topics this creates are replicated: the deployment's, not the layer's concern. */
export function kafkaTopicOffsets(kafka: Kafka, replication: ReplicationSetting = 'auto'): TopicOffsets {
  return {
    ensureTopics: (topics) => ensureTopics(kafka, topics, replication),
    endOffsets: (topic) => endOffsets(kafka, topic),
    logStartOffsets: (topic) => logStartOffsets(kafka, topic),
    offsetsForTime: (topic, ts) => offsetsForTime(kafka, topic, ts),
  };
}
