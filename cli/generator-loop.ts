/**
 * The paced send loop behind `lambda-arch generate` and the demo's in-process generator: takes
 * records from the seeded clickstream, writes them to Kafka (and/or a JSONL file) in batches,
 * keeps to the rate, and reports progress.
 */
import type { WriteStream } from 'node:fs';
import { clickstream, type GeneratedRecord, type GeneratorOptions, type RecordKind } from '../shared/generator/clickstream.js';
import type { EventProducer } from '../adapters/kafka/producer.js';
import type { Logger } from '../platform/logger.js';
import type { Service } from '../platform/lifecycle.js';

export interface LoopOptions extends GeneratorOptions {
  count: number;
  durationS: number;
  pace: boolean;
  topic: string;
  producer: EventProducer | null;
  out: WriteStream | null;
  log: Logger;
}

export type Counts = Record<RecordKind, number> & { sent: number };

export class GeneratorLoop implements Service {
  readonly name = 'generator';
  readonly counts: Counts = { sent: 0, event: 0, late: 0, duplicate: 0, invalid: 0 };
  private stopping = false;
  private running: Promise<void> | null = null;

  constructor(private readonly o: LoopOptions) {}

  async start(): Promise<void> {
    const o = this.o;
    o.log.info(
      { seed: o.seed, rate: o.rate, startTs: o.startTs, topic: o.producer ? o.topic : null },
      'generator: started (the same --seed and --start-ts repeat this stream)',
    );
    this.running = this.run().catch((err: unknown) => this.o.log.error({ err }, 'generator stopped on an error'));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** Resolves when the count or duration is reached (or stop() was called). */
  done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    const o = this.o;
    const stream = clickstream(o);
    const began = Date.now();
    let lastReport = began;
    const batchSize = Math.max(1, Math.min(2000, Math.ceil(o.rate / 10)));
    while (!this.stopping && this.counts.sent < o.count && (Date.now() - began) / 1000 < o.durationS) {
      const batch: GeneratedRecord[] = [];
      while (batch.length < batchSize && this.counts.sent + batch.length < o.count) {
        const rec = stream.next().value as GeneratedRecord;
        this.counts[rec.kind]++;
        batch.push(rec);
      }
      if (o.out) for (const r of batch) o.out.write(`${r.value}\n`);
      if (o.producer)
        await o.producer.send(
          o.topic,
          batch.map((r) => ({ key: r.key, value: r.value })),
        );
      this.counts.sent += batch.length;
      if (o.pace) {
        const wait = began + (this.counts.sent / o.rate) * 1000 - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        o.log.info({ ...this.counts, perSecond: Math.round(this.counts.sent / ((Date.now() - began) / 1000)) }, 'generator: progress');
      }
    }
  }
}
