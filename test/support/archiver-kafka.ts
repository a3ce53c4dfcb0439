/** Kafka helpers for the archiver tests: read a whole topic back as the truth, produce, clean up. */
import type { Kafka } from 'kafkajs';
import { createKafka } from '../../adapters/kafka/client.js';
import { EventProducer, type OutRecord } from '../../adapters/kafka/producer.js';
import { silentLogger } from '../../platform/logger.js';
import { clickstream, type GeneratedRecord } from '../../shared/generator/clickstream.js';
import { uniqueName } from './names.js';
import { waitUntil } from './wait.js';

export interface TopicRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

export function testKafka(brokers: readonly string[]): Kafka {
  return createKafka(brokers, uniqueName('archiver-test'), silentLogger());
}

/** Every record of `topic`, as Kafka holds it now, sorted by partition then offset. */
export async function readWholeTopic(kafka: Kafka, topic: string): Promise<TopicRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const pending = new Map(ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high) - 1]));
  const out: TopicRecord[] = [];
  if (pending.size === 0) return out;
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        const offset = Number(message.offset);
        out.push({
          partition,
          offset,
          timestamp: Number(message.timestamp),
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
          headers,
        });
        if (pending.get(partition) === offset) pending.delete(partition);
      },
    });
    await waitUntil(
      () => pending.size,
      (n) => n === 0,
      { what: `the whole of topic ${topic} read back`, timeoutMs: 60_000 },
    );
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}

/** `n` clickstream records with duplicates and invalid ones mixed in (seeded). */
export function clickRecords(n: number, seed: number, startTs = Date.now() - 3_600_000): GeneratedRecord[] {
  const out: GeneratedRecord[] = [];
  for (const r of clickstream({ seed, startTs, rate: 50, duplicateFraction: 0.05, invalidFraction: 0.04, lateFraction: 0.05 })) {
    out.push(r);
    if (out.length === n) break;
  }
  return out;
}

export async function produceAll(kafka: Kafka, topic: string, records: readonly OutRecord[], chunk = 200): Promise<void> {
  const producer = new EventProducer(kafka);
  await producer.start();
  try {
    for (let i = 0; i < records.length; i += chunk) await producer.send(topic, records.slice(i, i + chunk));
  } finally {
    await producer.stop();
  }
}
