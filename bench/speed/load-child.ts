/**
 * Load for the latency bench, in its own process so producing does not slow the process that
 * measures: BENCH_LOAD = {"brokers", "topic", "mode": "max" | "rate", "rate", "seconds"}.
 *  - max:  sends flat out (one batch of 2000 in flight, as an application would) for `seconds`,
 *          prints {"maxRate"}: what this machine can produce;
 *  - rate: prints {"ready": true} once producing at `rate`, runs until SIGTERM, then prints
 *          {"achievedRate", "sent"}.
 * Events are the clickstream with event time = now.
 */
import { randomInt } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { clickstream } from '../../shared/generator/clickstream.js';
import { connectProducer, RateProducer } from './produce.js';

const opts = JSON.parse(process.env.BENCH_LOAD ?? '{}') as { brokers: string[]; topic: string; mode: 'max' | 'rate'; rate: number; seconds: number };
const kafka = new Kafka({ clientId: 'lambda-bench-load', brokers: opts.brokers, logLevel: logLevel.NOTHING });
const producer = await connectProducer(kafka, true);
const stream = clickstream({ seed: randomInt(1, 1_000_000), startTs: Date.now(), rate: Math.max(1, opts.rate) });
const next = () => {
  const r = stream.next().value as { key: string | null; value: string };
  return { key: r.key, value: r.value };
};

if (opts.mode === 'max') {
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < opts.seconds * 1000) {
    const messages = Array.from({ length: 2000 }, next);
    await producer.send({ topic: opts.topic, acks: -1, messages });
    sent += messages.length;
  }
  await producer.disconnect();
  process.stdout.write(`${JSON.stringify({ maxRate: sent / ((performance.now() - started) / 1000) })}\n`);
} else {
  const load = new RateProducer(producer, opts.topic, opts.rate, next);
  load.start();
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  process.once('SIGTERM', () => {
    void (async () => {
      const achievedRate = await load.stop();
      await producer.disconnect();
      process.stdout.write(`${JSON.stringify({ achievedRate, sent: load.sent })}\n`);
      process.exit(0);
    })();
  });
}
