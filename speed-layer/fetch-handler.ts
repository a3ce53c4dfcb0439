/**
 * kafkajs eachBatch for the speed layer: a *fetch* batch of Kafka records (not the batch layer;
 * the W it reads is the batch layer's published watermark). Per fetched batch of one partition, in sub-batches of at
 * most `applyMaxEvents` records (each atomic with its own end offset, so exactly-once holds per
 * sub-batch), parsed and projected once, the state read once per fetch (each sub-batch expects the
 * offset the previous one stored):
 *
 *   1. read the stored next offset N, the published W and the runtime control (one round trip;
 *      shared/speed/control.ts: a paused layer applies nothing and returns, the dedupe switch
 *      decides step 3);
 *   2. drop records below N (already applied); if the batch starts above N, Redis is behind us
 *      (it lost writes, or a fetch raced with our seek): seek back to N. Only when Kafka's log
 *      start offset proves the records in between are gone (retention) is the gap accepted, and
 *      recorded: the partition's coveredSince moves past it, so the serving layer flags the time;
 *      when the fetch itself asked for N or earlier, the offsets in between hold no records
 *      (control records), and it goes on;
 *   3. claim the event ids (dedupe across partitions: the first copy of an id owns it; a replay
 *      of that copy finds its own claim), then plan: validate, dedupe, pre-aggregate, count late,
 *      duplicate and unchecked events per bucket (plan.ts);
 *   4. send invalid records to the DLQ (before the apply: a crash in between re-sends, never loses);
 *   5. apply increments + new offset in one Lua call that checks N is still stored; if not
 *      (a zombie, a replay), nothing was written: go back to 1.
 *
 * Redis or Kafka failures are retried with backoff (heartbeating the group in between); the
 * batch is not advanced until its apply succeeded.
 */
import type { ConsumerPositions } from './consumer-positions.js';
import type { ConsumedBatch, ConsumedMessage } from '../shared/kafka-ports.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import { withRetry } from '../platform/retry.js';
import type { DeadLetterSink } from '../shared/ports.js';
import type { LostRange } from '../shared/speed/apply.js';
import { effectiveDedupe, type SpeedControl } from '../shared/speed/control.js';
import { assertStateTopic, type PartitionState, type SpeedStateStore } from '../shared/speed/ports.js';
import type { ViewSet } from '../shared/views/definition.js';
import { claimRequests, parseRecords, planBatch, resolveClaims, type BatchPlan, type InvalidRecord, type ParsedRecord } from './plan.js';
import type { ProgressTracker } from './progress.js';
import type { ReplayNotes } from './replays.js';

export interface FetchHandlerDeps {
  topic: string;
  prefix: string;
  views: ViewSet;
  /** LAMBDA_SPEED_DEDUPE: the dedupe applied while the runtime control does not force one */
  dedupe: boolean;
  /** how long after its event hour ends an id is remembered (by the record's Kafka timestamp) */
  dedupeWindowMs: number;
  allowedLatenessMs: number;
  applyMaxEvents: number;
  retry: { baseMs: number; maxMs: number };
  store: SpeedStateStore;
  /** the dead-letter topic's sink (started and stopped by the speed layer) */
  deadLetters: Pick<DeadLetterSink, 'send'>;
  metrics: Metrics;
  log: Logger;
  progress: ProgressTracker;
  /** says so when Redis is found behind what this consumer applied (a replay) */
  replays: Pick<ReplayNotes, 'note'>;
  /** per partition, the offset the consumer will fetch next as far as we know (after a seek or an apply) */
  positions: ConsumerPositions;
  ensurePartition(partition: number): Promise<PartitionState>;
  /** the first offset Kafka still holds in the partition */
  logStartOffset(partition: number): Promise<number>;
  stopping(): boolean;
  /**
   * Hands over the runtime control read with the partition state (the layer pauses its consumer,
   * switches dedupe) and returns the one to obey now (the newest the layer knows). Absent: the
   * control read is obeyed as it is.
   */
  onControl?(control: SpeedControl): SpeedControl;
  /** whether the layer is paused now (checked before every sub-batch); absent: never */
  paused?(): boolean;
}

export class FetchHandler {
  /** highest offset already sent to the DLQ per partition, so a re-planned batch does not re-send */
  private readonly dlqSentThrough = new Map<number, number>();

  constructor(private readonly d: FetchHandlerDeps) {}

  async handle(payload: ConsumedBatch): Promise<void> {
    const { batch } = payload;
    const partition = batch.partition;
    this.d.progress.noteFetch(partition, Number(batch.highWatermark));
    const messages = batch.messages;
    const last = messages[messages.length - 1];
    if (last === undefined) return;
    const lastOffset = Number(last.offset);
    const chunks: ConsumedMessage[][] = [];
    for (let i = 0; i < messages.length; i += this.d.applyMaxEvents) chunks.push(messages.slice(i, i + this.d.applyMaxEvents));
    // Until every chunk is applied: a failed compare-and-set (a zombie, a replay) re-reads the
    // stored offset and goes on from the first chunk not applied.
    let from = 0;
    while (from < chunks.length) {
      if (this.d.stopping() || this.d.paused?.() || !payload.isRunning() || payload.isStale()) return;
      const outcome = await this.applyChunks(partition, chunks.slice(from), lastOffset, payload);
      // Paused: nothing more is resolved, so kafkajs fetches the rest again after the resume.
      if (outcome === 'seeked' || outcome === 'paused') return;
      from += outcome;
    }
  }

  /** One chunk of Kafka messages as records, parsed and projected once (when its turn comes). */
  private parse(messages: readonly ConsumedMessage[]): ParsedRecord[] {
    const records = messages.map((m) => ({
      offset: Number(m.offset),
      key: m.key === null ? null : m.key.toString('utf8'),
      value: m.value === null ? null : m.value.toString('utf8'),
      timestamp: Number(m.timestamp),
    }));
    return parseRecords(records, this.d.views);
  }

  /**
   * Applies consecutive chunks of one fetched batch, each expecting the offset the previous one
   * stored (the state is read once per fetch). A failed compare-and-set stops here: the caller
   * re-reads the state and goes on from the first chunk not applied. Returns how many chunks were
   * applied (or skipped as already applied), or 'seeked', or 'paused' (the runtime control says
   * so: nothing applied). (Sending chunk k+1 while Redis still applied chunk k was measured 10%
   * slower on the 2-core bench machine: both sides are busy.)
   */
  private async applyChunks(
    partition: number,
    chunks: readonly ConsumedMessage[][],
    batchLastOffset: number,
    payload: ConsumedBatch,
  ): Promise<number | 'seeked' | 'paused'> {
    const read = await this.retrying('redis', payload, () => this.d.store.readStateAndWatermark(partition));
    const { state, watermark } = read;
    const control = this.d.onControl ? this.d.onControl(read.control) : read.control;
    if (control.paused) return 'paused';
    const dedupe = effectiveDedupe(control, this.d.dedupe).dedupe;
    if (state === null) {
      const initialised = await this.retrying('redis', payload, () => this.d.ensurePartition(partition));
      return this.seekTo(partition, initialised.next, 'partition initialised');
    }
    assertStateTopic(state, this.d.topic, this.d.prefix);
    let expected = state.next;
    let skipped = 0;
    let applied = 0;
    for (const messages of chunks) {
      if (this.d.stopping() || this.d.paused?.() || !payload.isRunning() || payload.isStale()) break;
      const chunk = this.parse(messages);
      const start = chunk.findIndex((r) => r.offset >= expected);
      const fresh = start < 0 ? [] : start === 0 ? chunk : chunk.slice(start);
      const first = fresh[0];
      if (first === undefined) {
        // Everything here was applied before (a replay). Far behind: jump; else skip this chunk.
        if (batchLastOffset + 1 < expected) return this.seekTo(partition, expected, 'batch already applied');
        payload.resolveOffset(String(chunk[chunk.length - 1]?.offset));
        skipped++;
        continue;
      }
      let lost: LostRange | undefined;
      // Only the first chunk applied can start past the stored offset; later ones continue from
      // the previous chunk of the same fetch (offsets missing in between are no records: control
      // records of transactions, compaction).
      if (first.offset > expected && applied === 0) {
        const gap = await this.checkGap(partition, expected, first, Number(payload.batch.fetchedOffset), payload);
        if (gap === 'seeked') return gap;
        lost = gap ?? undefined;
      }
      const claims = claimRequests(fresh, this.d.dedupeWindowMs);
      const answers = await this.retrying('redis', payload, () => this.d.store.claim(partition, claims.items));
      const plan = planBatch({
        partition,
        records: fresh,
        claims: resolveClaims(claims.flags, claims.at, answers),
        expectedNext: expected,
        views: this.d.views,
        dedupe,
        watermark,
        allowedLatenessMs: this.d.allowedLatenessMs,
        ...(lost ? { lost, coveredSince: state.coveredSince } : {}),
        nowMs: Date.now(),
      });
      await this.sendDeadLetters(partition, plan.invalid, payload);
      const stopTimer = this.d.metrics.speed.applySeconds.startTimer();
      const o = await this.retrying('redis', payload, () => this.d.store.apply(plan.apply));
      if (!o.applied) {
        this.d.log.info(
          { partition, planned: plan.apply.expectedNext, stored: o.storedNext },
          'stored offset moved since planning: nothing written, re-planning',
        );
        return skipped + applied;
      }
      stopTimer();
      this.record(partition, plan, o.expiredGroups);
      payload.resolveOffset(String(plan.apply.newNext - 1));
      applied++;
      expected = plan.apply.newNext;
    }
    return skipped + applied;
  }

  /**
   * The batch starts past the stored offset N. Redis lost writes, or a fetch from before our seek
   * returned later offsets, or Kafka deleted the records (retention), or there are no records in
   * between (control records, compaction): seek back to N, except when Kafka's log start offset
   * proves the records gone (a loss, recorded), or when this very fetch asked for N or earlier
   * (kafkajs's fetchedOffset) and still began past it, which proves the offsets in between hold no
   * record. Nothing weaker is taken as proof: a batch fetched before a seek, seen once or twice,
   * says nothing about the offsets it skipped.
   */
  private async checkGap(
    partition: number,
    next: number,
    first: ParsedRecord,
    fetchedOffset: number,
    payload: ConsumedBatch,
  ): Promise<LostRange | null | 'seeked'> {
    const position = this.d.positions.of(partition);
    if (position !== next) {
      const seeked = this.seekTo(partition, next, 'Redis is behind the consumer position');
      // Our own applies took the partition past the stored offset: Redis lost them, they are
      // replayed. Said after the seek moved the position, so the periodic check does not say it again.
      if (position !== undefined && position > next) await this.d.replays.note(partition, next, position, 'fetch');
      return seeked;
    }
    const logStart = await this.retrying('kafka', payload, () => this.d.logStartOffset(partition));
    if (logStart > next && first.offset === logStart) {
      const lost = { from: next, to: first.offset, untilTs: first.timestamp };
      this.d.log.warn({ partition, ...lost }, 'offsets deleted by Kafka retention before the speed layer read them: recorded, coveredSince moves past them');
      return lost;
    }
    if (fetchedOffset <= next) {
      this.d.log.info(
        { partition, from: next, to: first.offset, fetchedOffset },
        'no records between the stored offset and the first one fetched from it (control records or compaction): going on',
      );
      return null;
    }
    // A fetch from a later position (issued before our seek landed): the records from N on are
    // still there (Kafka answers an offset below the log start with the log start itself).
    return this.seekTo(partition, next, 'a fetch from before the seek returned later offsets');
  }

  private record(partition: number, plan: BatchPlan, expiredGroups: number): void {
    const { metrics, positions, progress } = this.d;
    const t = plan.apply.totals;
    metrics.speed.batches.inc();
    metrics.speed.events.inc(t.events);
    metrics.speed.duplicates.inc(t.duplicatesSkipped);
    metrics.speed.duplicatesApplied.inc(t.duplicatesApplied);
    metrics.speed.lateEvents.inc(t.late);
    for (const [reason, n] of plan.invalidByReason) metrics.invalidEvents.inc({ layer: 'speed', reason }, n);
    if (expiredGroups > 0) this.d.log.debug({ partition, expiredGroups }, 'groups past their retention were not written');
    positions.advanced(partition, plan.apply.newNext);
    progress.noteNext(partition, plan.apply.newNext, plan.maxEventTs);
  }

  private async sendDeadLetters(partition: number, invalid: readonly InvalidRecord[], payload: ConsumedBatch): Promise<void> {
    const sentThrough = this.dlqSentThrough.get(partition) ?? -1;
    const todo = invalid.filter((r) => r.offset > sentThrough);
    const last = todo[todo.length - 1];
    if (last === undefined) return;
    const letters = todo.map((r) => ({ ...r, topic: this.d.topic, partition, layer: 'speed' }));
    await this.retrying('kafka', payload, () => this.d.deadLetters.send(letters));
    this.dlqSentThrough.set(partition, last.offset);
  }

  private seekTo(partition: number, offset: number, why: string): 'seeked' {
    this.d.log.info({ partition, offset, why }, 'seeking to the offset stored in Redis');
    this.d.positions.seekTo(partition, offset);
    return 'seeked';
  }

  /** Retries a retriable failure with backoff until it works or the batch is abandoned. */
  private retrying<T>(dependency: 'redis' | 'kafka', payload: ConsumedBatch, fn: () => Promise<T>): Promise<T> {
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
