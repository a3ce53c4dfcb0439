/**
 * The speed layer (docs/design-decisions.md §6): a Kafka consumer group that keeps every view at every granularity
 * in Redis, exactly-once in effect. The consumer logic per Kafka fetch is in fetch-handler.ts; this
 * module owns the lifecycle: topics, the consumer group (its crash and restart policy is the
 * factory's, shared with the archiver), the seek to Redis's offsets on every assignment, and the
 * periodic status report. It reaches Redis and Kafka through the ports of shared/speed/ports.ts and
 * shared/kafka-ports.ts; cli/speed-wiring.ts builds the adapters (docs/design-decisions.md, "Ports",
 * "Consumer groups").
 */
import { ConsumerPositions } from './consumer-positions.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../platform/config.js';
import type { Service } from '../platform/lifecycle.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import { withRetry } from '../platform/retry.js';
import { isLambdaError } from '../shared/errors.js';
import type { ConsumerGroup, ConsumerGroupFactory } from '../shared/kafka-ports.js';
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
  /** makes the consumer group (restarts a consumer kafkajs gave up on, with backoff) */
  consumers: ConsumerGroupFactory;
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
  private readonly positions = new ConsumerPositions((p, offset) => this.seek(p, offset));
  private readonly assigned = new Set<number>();
  private readonly handler: FetchHandler;
  private readonly status: StatusReporter;
  private readonly consumer: ConsumerGroup;
  private stopping = false;
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
      beforeWrite: () => this.onStatusTick(),
      controlReport: () => this.controlReport(),
    });
    this.consumer = deps.consumers({
      role: 'speed',
      groupId: config.speed.groupId,
      topic: config.kafka.topic,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      autoCommit: true,
      // Safe: every piece of per-partition state (positions, DLQ marks, Redis keys) is keyed by partition.
      concurrentPartitions: config.speed.concurrentPartitions,
      eachBatch: async (payload) => {
        this.inFlight++;
        try {
          await this.handler.handle(payload);
        } finally {
          this.inFlight--;
        }
      },
      // The listener's promise is nobody's: onAssignment handles its own failures, this catch is for a bug in it.
      onJoin: (partitions) => {
        this.onAssignment(partitions).catch((err: unknown) => this.log.error({ err }, 'assignment handling failed'));
      },
      // A new consumer starts unpaused; a paused layer pauses it as soon as it runs (the handler applies nothing meanwhile).
      beforeStart: async () => {
        this.consumerPaused = false;
        this.applyControl(await this.deps.store.readControl().catch(() => this.control));
      },
      onRunning: () => this.matchPause(),
      onRestart: () => metrics.speed.consumerRestarts.inc(),
      onRestartRetry: () => metrics.speed.retries.inc({ dependency: 'kafka' }),
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
    if (this.control.paused === this.consumerPaused) return;
    try {
      if (this.control.paused) this.consumer.pause();
      else this.consumer.resume();
      this.consumerPaused = this.control.paused;
      this.log.info(
        { version: this.control.version },
        this.control.paused ? 'speed consumer paused (runtime control)' : 'speed consumer resumed (runtime control)',
      );
    } catch (err) {
      // Not running yet (kafkajs refuses before consumer.run): onRunning matches it once it runs.
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
    // Ends a pending restart; kafkajs waits for the batch in flight, its retry loop sees `stopping` and gives up.
    await this.consumer.stop().catch((err: unknown) => this.log.warn({ err }, 'consumer disconnect failed'));
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
    this.consumer.seek(partition, offset);
  }

  /** One attempt to start the consumer group; `untilStopped` retries it. */
  private async runConsumer(): Promise<void> {
    try {
      await this.consumer.start();
    } catch (err) {
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
        this.positions.seekTo(p, state.next);
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
