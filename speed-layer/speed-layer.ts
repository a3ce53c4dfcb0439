/**
 * The speed layer (docs/design-decisions.md §6): a Kafka consumer group that keeps every view at every granularity
 * in Redis, exactly-once in effect. The consumer logic per Kafka fetch is in fetch-handler.ts; this
 * module owns the lifecycle: topics, the consumer (restarted if kafkajs gives up), the seek to
 * Redis's offsets on every assignment, and the periodic status report. It reaches Redis and Kafka
 * through the ports of shared/speed/ports.ts; cli/speed-wiring.ts builds the adapters
 * (docs/design-decisions.md, "Ports").
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Consumer, Kafka } from 'kafkajs';
import type { Config } from '../platform/config.js';
import type { Service } from '../platform/lifecycle.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import { backoffDelay, withRetry } from '../platform/retry.js';
import { isLambdaError } from '../shared/errors.js';
import type { DeadLetterSink } from '../shared/ports.js';
import { NO_CONTROL, effectiveDedupe, newerControl, type ControlReport, type SpeedControl } from '../shared/speed/control.js';
import type { PartitionState, SpeedStateStore, TopicOffsets } from '../shared/speed/ports.js';
import type { ViewSet } from '../shared/views/definition.js';
import { FetchHandler } from './fetch-handler.js';
import { ensurePartitionState, kafkaDown } from './partition-init.js';
import { ProgressTracker } from './progress.js';
import { ReplayNotes } from './replays.js';
import { StatusReporter } from './status-reporter.js';

export interface SpeedLayerDeps {
  config: Config;
  views: ViewSet;
  log: Logger;
  metrics: Metrics;
  /**
   * The Kafka client the consumer group is made with. Still kafkajs's own type: a consumer
   * lifecycle port (one factory for both consumers) is issue 19's remaining work.
   */
  kafka: Pick<Kafka, 'consumer'>;
  offsets: TopicOffsets;
  store: SpeedStateStore;
  /** started with the layer and stopped after its consumer */
  deadLetters: DeadLetterSink;
  /** releases what the wiring opened for this layer alone (its own Redis client), after everything stopped */
  release?: () => void;
  /** how often progress is written to Redis and Redis's offsets are checked (default 2 s) */
  statusIntervalMs?: number;
}

export class SpeedLayer implements Service {
  readonly name = 'speed-layer';
  private readonly log: Logger;
  private readonly progress: ProgressTracker;
  private readonly positions = new Map<number, number>();
  private readonly assigned = new Set<number>();
  private readonly handler: FetchHandler;
  private readonly status: StatusReporter;
  private consumer: Consumer | null = null;
  private stopping = false;
  private restarting: Promise<void> | null = null;
  private crashStreak = 0;
  private lastCrashAt = 0;
  private wakeUp: (() => void) | null = null;
  /** the newest runtime control read (shared/speed/control.ts) */
  private control: SpeedControl = NO_CONTROL;
  /** whether consumer.pause() holds on the current consumer (a new consumer starts unpaused) */
  private consumerPaused = false;
  /** eachBatch calls in progress: the layer reports itself paused only when none is */
  private inFlight = 0;

  constructor(private readonly deps: SpeedLayerDeps) {
    const { config, metrics } = deps;
    // Host and pid, plus a nonce: two instances in one process (tests) stay distinguishable.
    const instance = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.log = deps.log.child({ component: 'speed' });
    this.progress = new ProgressTracker(instance, metrics);
    const replays = new ReplayNotes({ store: deps.store, instance, metrics, log: this.log });
    this.handler = new FetchHandler({
      topic: config.kafka.topic,
      prefix: config.redis.keyPrefix,
      views: deps.views,
      dedupe: config.speed.dedupe,
      dedupeWindowMs: config.speed.dedupeWindowMs,
      allowedLatenessMs: config.allowedLatenessMs,
      applyMaxEvents: config.speed.applyMaxEvents,
      retry: config.retry,
      store: deps.store,
      deadLetters: deps.deadLetters,
      metrics,
      log: this.log,
      progress: this.progress,
      replays,
      positions: this.positions,
      ensurePartition: (p) => this.ensurePartition(p),
      logStartOffset: async (p) => {
        try {
          return (await deps.offsets.logStartOffsets(config.kafka.topic)).get(p) ?? 0;
        } catch (err) {
          throw kafkaDown(err, 'fetch log start offsets');
        }
      },
      seek: (p, offset) => this.seek(p, offset),
      stopping: () => this.stopping,
      onControl: (c) => this.applyControl(c),
      paused: () => this.control.paused,
    });
    this.status = new StatusReporter({
      store: deps.store,
      progress: this.progress,
      log: this.log,
      intervalMs: deps.statusIntervalMs ?? 2_000,
      assigned: () => [...this.assigned],
      positions: this.positions,
      replays,
      seek: (p, offset) => this.seek(p, offset),
      beforeWrite: () => this.onStatusTick(),
      controlReport: () => this.controlReport(),
    });
  }

  /** The runtime control this instance obeys, as its status reports it. */
  controlReport(): ControlReport {
    const { dedupe, from } = effectiveDedupe(this.control, this.deps.config.speed.dedupe);
    return { dedupe, dedupeFrom: from, paused: this.control.paused && this.consumerPaused && this.inFlight === 0, controlVersion: this.control.version };
  }

  /**
   * Takes a runtime control read from Redis (with a fetch's state, or on the status tick) if it is
   * newer than the one obeyed, and pauses or resumes the consumer to match. Returns the control to
   * obey now.
   */
  private applyControl(read: SpeedControl): SpeedControl {
    const next = newerControl(this.control, read);
    if (next !== this.control) {
      const { dedupe, from } = effectiveDedupe(next, this.deps.config.speed.dedupe);
      if (next.paused !== this.control.paused || dedupe !== effectiveDedupe(this.control, this.deps.config.speed.dedupe).dedupe) {
        this.log.info({ version: next.version, paused: next.paused, dedupe, dedupeFrom: from }, 'speed layer: runtime control changed');
      }
      this.control = next;
    }
    this.matchPause();
    return this.control;
  }

  /** consumer.pause / resume of the whole topic (kafkajs keeps it across rebalances of the same consumer). */
  private matchPause(): void {
    const consumer = this.consumer;
    if (consumer === null || this.control.paused === this.consumerPaused) return;
    const topics = [{ topic: this.deps.config.kafka.topic }];
    try {
      if (this.control.paused) consumer.pause(topics);
      else consumer.resume(topics);
      this.consumerPaused = this.control.paused;
      this.log.info(
        { version: this.control.version },
        this.control.paused ? 'speed consumer paused (runtime control)' : 'speed consumer resumed (runtime control)',
      );
    } catch (err) {
      // Not running yet (kafkajs refuses before consumer.run): runConsumer matches it once it runs.
      this.log.debug({ err }, 'could not pause or resume the consumer yet');
    }
  }

  /** The status tick: the control (a paused consumer fetches nothing else that reads it), and the ends while paused. */
  private async onStatusTick(): Promise<void> {
    this.applyControl(await this.deps.store.readControl());
    if (!this.control.paused || this.assigned.size === 0) return;
    try {
      const ends = await this.deps.offsets.endOffsets(this.deps.config.kafka.topic);
      for (const p of this.assigned) {
        const end = ends.get(p);
        if (end !== undefined) this.progress.noteFetch(p, end);
      }
    } catch (err) {
      this.log.debug({ err }, 'could not read partition ends while paused');
    }
  }

  async start(): Promise<void> {
    const { kafka: k } = this.deps.config;
    await this.untilStopped('prepare topics and producer', async () => {
      await this.deps.offsets.ensureTopics([
        { topic: k.topic, partitions: k.partitions },
        { topic: k.dlqTopic, partitions: k.partitions },
      ]);
      await this.deps.deadLetters.start();
    });
    await this.untilStopped('start consumer', () => this.runConsumer());
    this.status.start();
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.status.stop();
    this.wakeUp?.();
    await this.restarting?.catch(() => undefined);
    // kafkajs waits for the batch in flight; its retry loop sees `stopping` and gives up.
    await this.consumer?.disconnect().catch((err: unknown) => this.log.warn({ err }, 'consumer disconnect failed'));
    await this.status.flush();
    await this.deps.deadLetters.stop().catch((err: unknown) => this.log.warn({ err }, 'producer disconnect failed'));
    this.deps.release?.();
  }

  private ensurePartition(partition: number): Promise<PartitionState> {
    const { config } = this.deps;
    return ensurePartitionState(
      {
        store: this.deps.store,
        offsets: this.deps.offsets,
        topic: config.kafka.topic,
        prefix: config.redis.keyPrefix,
        coverFrom: config.speed.coverFrom,
        log: this.log,
      },
      partition,
    );
  }

  private seek(partition: number, offset: number): void {
    this.consumer?.seek({ topic: this.deps.config.kafka.topic, partition, offset: String(offset) });
  }

  private async runConsumer(): Promise<void> {
    const { config } = this.deps;
    const session = config.kafka.sessionTimeoutMs;
    const consumer = this.deps.kafka.consumer({
      groupId: config.speed.groupId,
      sessionTimeout: session,
      heartbeatInterval: Math.max(500, Math.min(3_000, Math.floor(session / 3))),
      allowAutoTopicCreation: false,
    });
    // kafkajs ignores a listener's promise; onAssignment handles its own failures, this catch is for a bug in it.
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.onAssignment(e.payload.memberAssignment[config.kafka.topic] ?? []).catch((err: unknown) => this.log.error({ err }, 'assignment handling failed'));
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (e.payload.restart || this.stopping) return;
      // kafkajs gave up (a non-retriable error, e.g. a bug or a misconfiguration an operator can
      // fix in Redis): keep the process alive and try again, backing off while it keeps crashing.
      const now = Date.now();
      this.crashStreak = now - this.lastCrashAt > 60_000 ? 0 : this.crashStreak + 1;
      this.lastCrashAt = now;
      const delayMs = backoffDelay(Math.min(this.crashStreak, 10), this.deps.config.retry.baseMs, this.deps.config.retry.maxMs);
      this.log.error({ err: e.payload.error, delayMs }, 'Kafka consumer crashed and kafkajs will not restart it: restarting');
      this.deps.metrics.speed.consumerRestarts.inc();
      this.restarting = this.pause(delayMs)
        .then(() => (this.stopping ? undefined : this.untilStopped('restart consumer', () => this.runConsumer())))
        .catch((err: unknown) => {
          if (!this.stopping) this.log.error({ err }, 'consumer restart abandoned');
        });
    });
    this.consumer = consumer;
    this.consumerPaused = false;
    try {
      // Before the consumer runs: a paused layer pauses it as soon as it can (the handler applies nothing meanwhile).
      this.applyControl(await this.deps.store.readControl().catch(() => this.control));
      await consumer.connect();
      await consumer.subscribe({ topic: config.kafka.topic, fromBeginning: true });
      await consumer.run({
        eachBatchAutoResolve: false,
        autoCommit: true,
        // Safe: every piece of per-partition state (positions, DLQ marks, Redis keys) is keyed by partition.
        partitionsConsumedConcurrently: config.speed.concurrentPartitions,
        eachBatch: async (payload) => {
          this.inFlight++;
          try {
            await this.handler.handle(payload);
          } finally {
            this.inFlight--;
          }
        },
      });
      this.matchPause();
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw kafkaDown(err, 'consumer start');
    }
  }

  /** On every assignment: seek each partition to the offset Redis holds (first start: initialise). */
  private async onAssignment(partitions: number[]): Promise<void> {
    for (const p of this.assigned) {
      if (!partitions.includes(p)) this.progress.forget(p);
    }
    this.assigned.clear();
    this.positions.clear();
    for (const p of partitions) this.assigned.add(p);
    for (const p of partitions) {
      try {
        const state = await withRetry(() => this.ensurePartition(p), { ...this.deps.config.retry, maxAttempts: 5, aborted: () => this.stopping });
        if (!this.assigned.has(p)) continue;
        this.seek(p, state.next);
        this.positions.set(p, state.next);
        this.progress.noteNext(p, state.next);
      } catch (err) {
        // The batch handler checks the stored offset on every batch anyway.
        this.log.warn({ partition: p, err }, 'could not seek to the stored offset on assignment');
      }
    }
    try {
      // The partition ends give the first lag figures and the topic's real partition count.
      const ends = await this.deps.offsets.endOffsets(this.deps.config.kafka.topic);
      for (const p of partitions) {
        const end = ends.get(p);
        if (end !== undefined) this.progress.noteFetch(p, end);
      }
      await this.status.reportTopicPartitions(ends.size);
    } catch (err) {
      this.log.debug({ err }, 'could not read partition ends on assignment');
    }
  }

  /** Waits `ms`, or less if the layer is stopped meanwhile. */
  private pause(ms: number): Promise<void> {
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

  /** Retries `fn` on retriable failures with backoff until it works or the layer is stopped. */
  private untilStopped<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, {
      ...this.deps.config.retry,
      aborted: () => this.stopping,
      // Kafka client errors are not LambdaErrors and are worth another try; ours say so themselves.
      isRetriable: (err) => !isLambdaError(err) || err.retriable,
      onRetry: (err, attempt, delayMs) => {
        this.deps.metrics.speed.retries.inc({ dependency: 'kafka' });
        this.log.warn({ what, attempt, delayMs, err: (err as Error).message }, 'speed layer: retrying');
      },
    });
  }
}
