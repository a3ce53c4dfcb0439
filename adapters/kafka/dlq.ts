/**
 * The dead-letter topic (docs/design-decisions.md §2): invalid records are never dropped silently. Each goes to
 * `<topic>.dlq` unchanged, with headers naming where it came from and what was wrong.
 */
import type { DeadLetter } from '../../shared/ports.js';
import type { EventProducer } from './producer.js';

export type { DeadLetter };

export const DLQ_HEADERS = {
  topic: 'lambda.original.topic',
  partition: 'lambda.original.partition',
  offset: 'lambda.original.offset',
  layer: 'lambda.layer',
  reason: 'lambda.error.reason',
  error: 'lambda.error.message',
} as const;

export async function sendDeadLetters(producer: EventProducer, dlqTopic: string, letters: readonly DeadLetter[]): Promise<void> {
  await producer.send(
    dlqTopic,
    letters.map((l) => ({
      key: l.key,
      value: l.value ?? '',
      headers: {
        [DLQ_HEADERS.topic]: l.topic,
        [DLQ_HEADERS.partition]: String(l.partition),
        [DLQ_HEADERS.offset]: String(l.offset),
        [DLQ_HEADERS.layer]: l.layer,
        [DLQ_HEADERS.reason]: l.reason,
        [DLQ_HEADERS.error]: l.message,
      },
    })),
  );
}
