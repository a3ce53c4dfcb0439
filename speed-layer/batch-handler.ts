/**
 * kafkajs eachBatch for the speed layer. Per fetched batch of one partition, in sub-batches of at
 * most `applyMaxEvents` records (each atomic with its own end offset, so a big fetch never makes a
 * giant Lua call and exactly-once holds per sub-batch):
 *
 *   1. read the stored next offset N and which ids were seen (one round trip, one slot);
 *   2. drop records below N (already applied); if the batch starts above N and we did not just
 *      seek there, Redis is behind us (it lost writes or was reset): seek back to N;
 *   3. plan: validate, dedupe, pre-aggregate, count late/duplicates (plan.ts);
 *   4. send invalid records to the DLQ (before the apply: a crash in between re-sends, never loses);
 *   5. apply increments + new offset in one Lua call that checks N is still stored; if not
 *      (a zombie, a replay), nothing was written: go back to 1.
 *
 * Redis or Kafka failures are retried with backoff (heartbeating the group in between); the
 * batch is not advanced until its apply succeeded.
 */
import type { EachBatchPayload } from 'kafkajs';
import type { EventProducer } from '../adapters/kafka/producer.js';
import { sendDeadLetters } from '../adapters/kafka/dlq.js';
import { assertStateTopic, type PartitionState, type RedisSpeedStateStore } from '../adapters/redis/speed-state-store.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import { withRetry } from '../platform/retry.js';
import type { ViewSet } from '../shared/views/definition.js';
import { eventIds, parseRecords, planBatch, type ParsedRecord } from './plan.js';
import type { ProgressTracker } from './progress.js';

export interface BatchHandlerDeps {
  topic: string;
  dlqTopic: string;
  prefix: string;
  views: ViewSet;
  dedupe: boolean;
  applyMaxEvents: number;
  retry: { baseMs: number; maxMs: number };
  store: RedisSpeedStateStore;
  producer: EventProducer;
  metrics: Metrics;
  log: Logger;
  progress: ProgressTracker;
  /** per partition, the offset the consumer will fetch next as far as we know (after a seek or an apply) */
  positions: Map<number, number>;
  ensurePartition(partition: number): Promise<PartitionState>;
  seek(partition: number, offset: number): void;
  stopping(): boolean;
}

type ChunkOutcome = 'applied' | 'skipped' | 'seeked';

export class BatchHandler {
  /** highest offset already sent to the DLQ per partition, so a re-planned batch does not re-send */
  private readonly dlqSentThrough = new Map<number, number>();

  constructor(private readonly d: BatchHandlerDeps) {}

  async handle(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const partition = batch.partition;
    this.d.progress.noteFetch(partition, Number(batch.highWatermark));
    const records = batch.messages.map((m) => ({
      offset: Number(m.offset),
      key: m.key === null ? null : m.key.toString('utf8'),
      value: m.value === null ? null : m.value.toString('utf8'),
    }));
    const lastOffset = records[records.length - 1]?.offset;
    if (lastOffset === undefined) return;
    const watermark = await this.retrying('redis', payload, () => this.d.store.readBatchWatermark());
    for (let i = 0; i < records.length; i += this.d.applyMaxEvents) {
      if (this.d.stopping() || !payload.isRunning() || payload.isStale()) return;
      const chunk = parseRecords(records.slice(i, i + this.d.applyMaxEvents), this.d.views);
      const outcome = await this.applyChunk(partition, chunk, lastOffset, watermark, payload);
      if (outcome === 'seeked') return;
    }
  }

  private async applyChunk(
    partition: number,
    chunk: ParsedRecord[],
    batchLastOffset: number,
    watermark: number | null,
    payload: EachBatchPayload,
  ): Promise<ChunkOutcome> {
    const ids = eventIds(chunk);
    for (;;) {
      const peek = await this.retrying('redis', payload, () => this.d.store.peek(partition, ids));
      if (peek.state === null) {
        const state = await this.retrying('redis', payload, () => this.d.ensurePartition(partition));
        return this.seekTo(partition, state.next, 'partition initialised');
      }
      assertStateTopic(peek.state, this.d.topic, this.d.prefix);
      const next = peek.state.next;
      const fresh = chunk.filter((r) => r.offset >= next);
      const first = fresh[0];
      if (first === undefined) {
        // Everything here was applied before (a replay). Far behind: jump; else skip this chunk.
        if (batchLastOffset + 1 < next) return this.seekTo(partition, next, 'batch already applied');
        payload.resolveOffset(String(chunk[chunk.length - 1]?.offset));
        return 'skipped';
      }
      if (first.offset > next) {
        if (this.d.positions.get(partition) !== next) return this.seekTo(partition, next, 'Redis is behind the consumer position');
        this.d.log.warn({ partition, expected: next, got: first.offset }, 'offset gap in the partition (retention or compaction?): applying from the first available');
      }
      const seenBefore = new Set(ids.filter((_, i) => peek.seen[i]));
      const plan = planBatch({
        topic: this.d.topic,
        partition,
        records: fresh,
        expectedNext: next,
        seen: seenBefore,
        views: this.d.views,
        dedupe: this.d.dedupe,
        watermark,
        nowMs: Date.now(),
      });
      await this.sendDeadLetters(partition, plan.deadLetters, payload);
      const stopTimer = this.d.metrics.speed.applySeconds.startTimer();
      const outcome = await this.retrying('redis', payload, () => this.d.store.apply(plan.apply));
      if (!outcome.applied) {
        this.d.log.info({ partition, planned: next, stored: outcome.storedNext }, 'stored offset moved since planning: nothing written, re-planning');
        continue;
      }
      stopTimer();
      this.record(partition, plan, outcome.expiredGroups);
      payload.resolveOffset(String(plan.apply.newNext - 1));
      return 'applied';
    }
  }

  private record(partition: number, plan: ReturnType<typeof planBatch>, expiredGroups: number): void {
    const { metrics, positions, progress } = this.d;
    const t = plan.apply.totals;
    metrics.speed.batches.inc();
    metrics.speed.events.inc(t.events);
    metrics.speed.duplicates.inc(t.duplicatesSkipped);
    metrics.speed.duplicatesApplied.inc(t.duplicatesApplied);
    metrics.speed.lateEvents.inc(plan.lateEvents);
    for (const [reason, n] of plan.invalidByReason) metrics.invalidEvents.inc({ layer: 'speed', reason }, n);
    if (expiredGroups > 0) this.d.log.debug({ partition, expiredGroups }, 'groups past their retention were not written');
    positions.set(partition, plan.apply.newNext);
    progress.noteNext(partition, plan.apply.newNext, plan.maxEventTs);
  }

  private async sendDeadLetters(partition: number, letters: ReturnType<typeof planBatch>['deadLetters'], payload: EachBatchPayload): Promise<void> {
    const sentThrough = this.dlqSentThrough.get(partition) ?? -1;
    const todo = letters.filter((l) => l.offset > sentThrough);
    const last = todo[todo.length - 1];
    if (last === undefined) return;
    await this.retrying('kafka', payload, () => sendDeadLetters(this.d.producer, this.d.dlqTopic, todo));
    this.dlqSentThrough.set(partition, last.offset);
  }

  private seekTo(partition: number, offset: number, why: string): ChunkOutcome {
    this.d.log.info({ partition, offset, why }, 'seeking to the offset stored in Redis');
    this.d.seek(partition, offset);
    this.d.positions.set(partition, offset);
    return 'seeked';
  }

  /** Retries a retriable failure with backoff until it works or the batch is abandoned. */
  private retrying<T>(dependency: 'redis' | 'kafka', payload: EachBatchPayload, fn: () => Promise<T>): Promise<T> {
    return withRetry(
      async () => {
        // Keeps the group membership alive through a long outage; throws on a rebalance, which
        // abandons this batch (kafkajs refetches it from the last resolved offset).
        await payload.heartbeat();
        return fn();
      },
      {
        ...this.d.retry,
        aborted: () => this.d.stopping() || !payload.isRunning(),
        onRetry: (err, attempt, delayMs) => {
          this.d.metrics.speed.retries.inc({ dependency });
          this.d.log.warn({ dependency, attempt, delayMs, err: (err as Error).message }, 'speed layer: dependency failed, retrying');
        },
      },
    );
  }
}
