/**
 * The producing side of the event log: an idempotent producer with acks=all, so a record the
 * caller was told is accepted is durable in Kafka and a retried send does not duplicate it.
 */
import { Partitioners, type Kafka, type Producer, type IHeaders } from 'kafkajs';
import { LambdaError } from '../../shared/errors.js';

export interface OutRecord {
  key: string | null;
  value: string;
  headers?: Record<string, string>;
  timestamp?: number;
  /** an explicit partition (otherwise the key decides; a null key spreads records over partitions) */
  partition?: number;
}

export class EventProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(kafka: Kafka) {
    // The default (murmur2, Java-compatible) partitioner, named so kafkajs does not warn about it:
    // records keyed by event id land on the same partition as they would from a Java producer.
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async start(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  async stop(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect();
  }

  async send(topic: string, records: readonly OutRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      await this.producer.send({
        topic,
        acks: -1,
        messages: records.map((r) => ({
          key: r.key,
          value: r.value,
          headers: r.headers as IHeaders | undefined,
          timestamp: r.timestamp === undefined ? undefined : String(r.timestamp),
          ...(r.partition === undefined ? {} : { partition: r.partition }),
        })),
      });
    } catch (err) {
      throw new LambdaError('DEPENDENCY_DOWN', `Kafka did not accept ${records.length} record(s) for topic ${topic}: ${(err as Error).message}`, {
        retriable: true,
        cause: err,
      });
    }
  }
}
