import type { Kafka } from 'kafkajs';

/** Per partition, the log start offset: the first offset Kafka still holds (retention moves it). */
export async function logStartOffsets(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.low)]));
  } finally {
    await admin.disconnect();
  }
}
