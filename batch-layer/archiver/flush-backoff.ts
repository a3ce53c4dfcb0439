/**
 * After a failed flush (disk full, DLQ unreachable...) the partition's buffer is dropped and the
 * partition is read again from its checkpoint, which retries the flush with the same records. Its
 * consumption is paused meanwhile, with capped exponential backoff, so a lasting failure does not
 * turn into a hot loop of fetch, fail, seek.
 */
import { backoffDelay } from '../../platform/retry.js';
import type { ConsumerGroup } from '../../shared/kafka-ports.js';

export class FlushBackoff {
  private readonly failures = new Map<number, number>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly retry: { baseMs: number; maxMs: number }) {}

  succeeded(partition: number): void {
    this.failures.delete(partition);
  }

  /** Counts the failure; returns the attempt number and the pause before the next one. */
  failed(partition: number): { attempt: number; delayMs: number } {
    const attempt = (this.failures.get(partition) ?? 0) + 1;
    this.failures.set(partition, attempt);
    return { attempt, delayMs: backoffDelay(attempt - 1, this.retry.baseMs, this.retry.maxMs) };
  }

  /** Pauses the partition, moves it back to `offset`, and resumes it after `delayMs`. */
  rewind(consumer: Pick<ConsumerGroup, 'pause' | 'seek' | 'resume'>, partition: number, offset: number, delayMs: number): void {
    const tp = [partition];
    consumer.pause(tp);
    consumer.seek(partition, offset);
    const t = setTimeout(() => {
      this.timers.delete(t);
      try {
        consumer.resume(tp);
      } catch {
        // The consumer crashed meanwhile (e.g. Kafka went down) and is being restarted: the
        // pause lived in the old consumer group, the new one starts unpaused and positions every
        // partition from its checkpoint again, so there is nothing left to resume. Throwing here
        // (a timer) would crash the process.
      }
    }, delayMs);
    this.timers.add(t);
  }

  clear(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
