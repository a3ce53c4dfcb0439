/**
 * The dead-letter port (shared/ports.ts DeadLetterSink) on Kafka: one idempotent producer writing
 * `<topic>.dlq` with the headers of dlq.ts. The sink owns its producer: start and stop are its.
 */
import type { DeadLetter, DeadLetterSink } from '../../shared/ports.js';
import { sendDeadLetters } from './dlq.js';
import type { EventProducer } from './producer.js';

export class KafkaDeadLetterSink implements DeadLetterSink {
  constructor(
    private readonly producer: EventProducer,
    private readonly dlqTopic: string,
  ) {}

  start(): Promise<void> {
    return this.producer.start();
  }

  send(letters: readonly DeadLetter[]): Promise<void> {
    return sendDeadLetters(this.producer, this.dlqTopic, letters);
  }

  stop(): Promise<void> {
    return this.producer.stop();
  }
}
