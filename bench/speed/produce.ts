/**
 * Putting events into Kafka for the speed bench: `preProduce` fills a fresh topic as fast as the
 * client can (setup, not measured), `RateProducer` sends at a fixed rate in small batches every
 * 10 ms and reports the rate it really achieved. Both key records by event id with the default
 * (murmur2) partitioner, as the service's own producer does.
 */
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { clickstream } from '../../shared/generator/clickstream.js';

/** The speed bench's stream: the seeded clickstream with ~2% producer-retry duplicates, event times ending now. */
export function* speedStream(
  count: number,
  opts: { seed: number; endTs: number; spanMs: number; duplicateFraction?: number },
): Generator<{ key: string | null; value: string }> {
  const rate = count / (opts.spanMs / 1000);
  let n = 0;
  for (const r of clickstream({ seed: opts.seed, startTs: opts.endTs - opts.spanMs, rate, duplicateFraction: opts.duplicateFraction ?? 0.02 })) {
    if (n++ >= count) return;
    yield { key: r.key, value: r.value };
  }
}

export async function connectProducer(kafka: Kafka, idempotent: boolean): Promise<Producer> {
  const producer = kafka.producer({
    idempotent,
    maxInFlightRequests: idempotent ? 1 : 5,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  return producer;
}

/** Sends every record, `inFlight` batches of `batchSize` at a time. Returns records per second. */
export async function preProduce(
  kafka: Kafka,
  topic: string,
  records: Iterable<{ key: string | null; value: string }>,
  batchSize = 5000,
  inFlight = 4,
): Promise<number> {
  const producer = await connectProducer(kafka, false);
  const started = performance.now();
  let sent = 0;
  const pending = new Set<Promise<unknown>>();
  let batch: { key: string | null; value: string }[] = [];
  const flush = async () => {
    const messages = batch;
    batch = [];
    sent += messages.length;
    const p = producer.send({ topic, acks: -1, messages }).finally(() => pending.delete(p));
    pending.add(p);
    if (pending.size >= inFlight) await Promise.race(pending);
  };
  try {
    for (const r of records) {
      batch.push(r);
      if (batch.length >= batchSize) await flush();
    }
    if (batch.length > 0) await flush();
    await Promise.all(pending);
  } finally {
    await producer.disconnect();
  }
  return sent / ((performance.now() - started) / 1000);
}

/** A producer at a fixed rate: every tick sends what the schedule says is due (catching up when late). */
export class RateProducer {
  sent = 0;
  private started = 0;
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly rate: number,
    private readonly next: () => { key: string | null; value: string },
    private readonly tickMs = 10,
  ) {}

  start(): void {
    this.started = performance.now();
    this.loop = this.run();
  }

  /** Stops and returns the achieved rate (records per second). */
  async stop(): Promise<number> {
    this.stopped = true;
    await this.loop;
    return this.sent / ((performance.now() - this.started) / 1000);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const due = Math.floor(((performance.now() - this.started) / 1000) * this.rate) - this.sent;
      if (due > 0) {
        // One send at a time, as an application thread would: a slow broker shows as a lower achieved rate.
        const n = Math.min(due, Math.max(1000, this.rate / 10));
        const messages = Array.from({ length: n }, () => this.next());
        await this.producer.send({ topic: this.topic, acks: -1, messages });
        this.sent += n;
      } else {
        await new Promise((r) => setTimeout(r, this.tickMs));
      }
    }
  }
}
