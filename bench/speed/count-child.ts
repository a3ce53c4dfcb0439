/**
 * The Kafka ceiling: a plain kafkajs consumer that only counts the records of a topic (no parsing,
 * no Redis). BENCH_COUNT = {"brokers", "topic", "total"} (JSON). Prints records per second from
 * the first fetched batch to the last.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

const { brokers, topic, total } = JSON.parse(process.env.BENCH_COUNT ?? '{}') as { brokers: string[]; topic: string; total: number };
const kafka = new Kafka({ clientId: 'lambda-bench-count', brokers, logLevel: logLevel.NOTHING });
const groupId = `bench-count-${randomBytes(4).toString('hex')}`;
const consumer = kafka.consumer({ groupId });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
let count = 0;
let firstAt = 0;
let firstCount = 0;
const done = new Promise<number>((resolve) => {
  void consumer.run({
    eachBatch: async ({ batch }) => {
      if (firstAt === 0) {
        firstAt = performance.now();
        firstCount = batch.messages.length;
      }
      count += batch.messages.length;
      if (count >= total) resolve(performance.now());
    },
  });
});
const end = await done;
await consumer.disconnect();
const admin = kafka.admin();
await admin.connect();
await admin.deleteGroups([groupId]).catch(() => undefined); // leave nothing behind on a shared broker
await admin.disconnect();
process.stdout.write(`${JSON.stringify({ eventsPerSec: (count - firstCount) / ((end - firstAt) / 1000), count })}\n`);
