/**
 * The one Kafka consumer factory (shared/kafka-ports.ts ConsumerGroupFactory) of both consumers,
 * the speed layer and the archiver (docs/design-decisions.md, "Consumer groups"). It holds:
 *  - the heartbeat formula (heartbeatIntervalMs below);
 *  - the wiring of the group events: GROUP_JOIN -> onJoin, REBALANCING and CRASH -> onLeave;
 *  - the crash policy: a crash kafkajs restarts itself is left to kafkajs (logged); a crash it will
 *    not restart (a non-retriable error) is restarted here with a fresh consumer after a capped
 *    exponential backoff that grows while the crashes keep coming, counted by onRestart and logged
 *    once; nothing restarts once stop() was called.
 */
import type { Consumer, ConsumerConfig, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from '../../platform/logger.js';
import { backoffDelay, withRetry } from '../../platform/retry.js';
import type { ConsumedBatch, ConsumerGroup, ConsumerGroupFactory, ConsumerGroupSpec } from '../../shared/kafka-ports.js';

/**
 * A third of the session timeout, so two heartbeats can be lost before the coordinator gives the
 * partitions away (Kafka's advice), at most 3 s (kafkajs's default) and at least 500 ms.
 */
export function heartbeatIntervalMs(sessionTimeoutMs: number): number {
  return Math.max(500, Math.min(3_000, Math.floor(sessionTimeoutMs / 3)));
}

/** A crash this long after the previous one starts the backoff again from its base. */
export const CRASH_STREAK_RESET_MS = 60_000;
/** The backoff stops growing after this many crashes in a row (it is capped at retry.maxMs anyway). */
const MAX_STREAK = 10;

/** The part of a kafkajs Consumer the group uses (a fake implements it in the unit tests). */
export type ConsumerClient = Pick<Consumer, 'connect' | 'subscribe' | 'run' | 'disconnect' | 'seek' | 'pause' | 'resume' | 'on' | 'events'>;

export interface ConsumerGroupOptions {
  log: Logger;
  /** LAMBDA_RETRY_BASE_MS / LAMBDA_RETRY_MAX_MS: the restart backoff */
  retry: { baseMs: number; maxMs: number };
  /** injectable for tests */
  now?: () => number;
  random?: () => number;
}

/** The factory on a kafkajs client. */
export function kafkaConsumerGroups(kafka: Pick<Kafka, 'consumer'>, opts: ConsumerGroupOptions): ConsumerGroupFactory {
  return consumerGroups((config) => kafka.consumer(config), opts);
}

/** The factory on any maker of kafkajs-like consumers. */
export function consumerGroups(make: (config: ConsumerConfig) => ConsumerClient, opts: ConsumerGroupOptions): ConsumerGroupFactory {
  return (spec) => new RestartingConsumerGroup(make, spec, opts);
}

class RestartingConsumerGroup implements ConsumerGroup {
  private consumer: ConsumerClient | null = null;
  private stopping = false;
  private restarting: Promise<void> | null = null;
  private crashStreak = 0;
  private lastCrashAt = -Infinity;
  private wakeUp: (() => void) | null = null;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(
    private readonly make: (config: ConsumerConfig) => ConsumerClient,
    private readonly spec: ConsumerGroupSpec,
    private readonly opts: ConsumerGroupOptions,
  ) {
    this.log = opts.log.child({ consumerGroup: spec.groupId, role: spec.role });
    this.now = opts.now ?? Date.now;
  }

  async start(): Promise<void> {
    const { spec } = this;
    const consumer = this.make({
      groupId: spec.groupId,
      sessionTimeout: spec.sessionTimeoutMs,
      heartbeatInterval: heartbeatIntervalMs(spec.sessionTimeoutMs),
      ...(spec.maxWaitTimeMs !== undefined ? { maxWaitTimeInMs: spec.maxWaitTimeMs } : {}),
      allowAutoTopicCreation: false,
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => spec.onJoin?.(e.payload.memberAssignment[spec.topic] ?? []));
    consumer.on(consumer.events.REBALANCING, () => spec.onLeave?.('rebalancing'));
    consumer.on(consumer.events.CRASH, (e) => this.onCrash(consumer, e.payload.error, e.payload.restart));
    this.consumer = consumer;
    try {
      await spec.beforeStart?.();
      await consumer.connect();
      await consumer.subscribe({ topic: spec.topic, fromBeginning: true });
      await consumer.run({
        autoCommit: spec.autoCommit,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: spec.concurrentPartitions ?? 1,
        eachBatch: (payload) => spec.eachBatch(consumedBatch(payload)),
      });
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
    spec.onRunning?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    await this.restarting?.catch(() => undefined);
    // kafkajs waits for the batch in flight; its retry loop sees the consumer stopping and gives up.
    await this.consumer?.disconnect();
  }

  seek(partition: number, offset: number): void {
    this.consumer?.seek({ topic: this.spec.topic, partition, offset: String(offset) });
  }

  pause(partitions?: readonly number[]): void {
    this.started().pause([this.topicPartitions(partitions)]);
  }

  resume(partitions?: readonly number[]): void {
    this.started().resume([this.topicPartitions(partitions)]);
  }

  /** The current consumer; before start() there is none to pause, which a caller must hear (as from kafkajs before run). */
  private started(): ConsumerClient {
    if (this.consumer === null) throw new Error(`the ${this.spec.role} consumer has not been started`);
    return this.consumer;
  }

  private topicPartitions(partitions?: readonly number[]): { topic: string; partitions?: number[] } {
    return partitions === undefined ? { topic: this.spec.topic } : { topic: this.spec.topic, partitions: [...partitions] };
  }

  private onCrash(consumer: ConsumerClient, error: Error, restart: boolean): void {
    this.spec.onLeave?.('crash');
    // A crash while stopping (a disconnect racing a group join) is the stop itself, not a fault;
    // a crash of a consumer already replaced is old news.
    if (this.stopping || consumer !== this.consumer) {
      this.log.info({ err: error.message }, this.stopping ? 'Kafka consumer ended while stopping' : 'a replaced Kafka consumer crashed');
      return;
    }
    if (restart) {
      this.log.warn({ err: error }, 'Kafka consumer crashed: kafkajs restarts it');
      return;
    }
    // kafkajs gave up (a non-retriable error, e.g. a bug or a misconfiguration an operator can
    // fix): keep the process alive and try again with a new consumer, backing off while it keeps crashing.
    const t = this.now();
    this.crashStreak = t - this.lastCrashAt > CRASH_STREAK_RESET_MS ? 0 : this.crashStreak + 1;
    this.lastCrashAt = t;
    const { baseMs, maxMs } = this.opts.retry;
    const delayMs = backoffDelay(Math.min(this.crashStreak, MAX_STREAK), baseMs, maxMs, this.opts.random);
    this.log.error({ err: error, delayMs, crashStreak: this.crashStreak }, 'Kafka consumer crashed and kafkajs will not restart it: restarting');
    this.spec.onRestart?.();
    this.restarting = this.sleep(delayMs)
      .then(() =>
        this.stopping
          ? undefined
          : withRetry(() => this.start(), {
              baseMs,
              maxMs,
              aborted: () => this.stopping,
              isRetriable: () => true,
              onRetry: (err, attempt, ms) => {
                this.spec.onRestartRetry?.(err, attempt, ms);
                this.log.warn({ attempt, delayMs: ms, err: (err as Error).message }, 'Kafka consumer restart failed: retrying');
              },
            }),
      )
      .catch((err: unknown) => {
        if (!this.stopping) this.log.error({ err }, 'Kafka consumer restart abandoned');
      });
  }

  /** Waits `ms`, or less if the group is stopped meanwhile. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}

/**
 * kafkajs's payload as the port's batch. kafkajs's Batch keeps the offset its fetch asked for
 * (`fetchedOffset`, the same value it filters the returned messages by) but its typings do not
 * name it; without it no gap in the offsets could be told from a fetch issued before a seek.
 */
export function consumedBatch(payload: EachBatchPayload): ConsumedBatch {
  const { batch } = payload;
  const fetchedOffset = (batch as unknown as { fetchedOffset?: unknown }).fetchedOffset;
  if (fetchedOffset === undefined || fetchedOffset === null) throw new Error('kafkajs batch without fetchedOffset: this kafkajs version is not supported');
  return {
    ...payload,
    batch: {
      topic: batch.topic,
      partition: batch.partition,
      highWatermark: batch.highWatermark,
      fetchedOffset: String(fetchedOffset),
      messages: batch.messages,
    },
  };
}
