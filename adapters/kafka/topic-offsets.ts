/** The speed layer's TopicOffsets port (shared/speed/ports.ts) on one Kafka client: the functions of topics.ts. */
import type { Kafka } from 'kafkajs';
import type { TopicOffsets } from '../../shared/speed/ports.js';
import { endOffsets, ensureTopics, logStartOffsets, offsetsForTime } from './topics.js';

export function kafkaTopicOffsets(kafka: Kafka): TopicOffsets {
  return {
    ensureTopics: (topics) => ensureTopics(kafka, topics),
    endOffsets: (topic) => endOffsets(kafka, topic),
    logStartOffsets: (topic) => logStartOffsets(kafka, topic),
    offsetsForTime: (topic, ts) => offsetsForTime(kafka, topic, ts),
  };
}
