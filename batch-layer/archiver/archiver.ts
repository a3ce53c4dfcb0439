/**
 * The archiver (docs/design-decisions.md §1, §4): a Kafka consumer group that copies the event topic, record for
 * record, into the master dataset as immutable segment files, sends invalid records to the DLQ,
 * and keeps a checkpoint per partition from which `arrivalComplete` is derived.
 *
 * The master dataset's checkpoint, not Kafka's committed offset, decides where a partition resumes:
 * on every assignment the archiver reads it and seeks to `lastOffset + 1`. See partition-state.ts
 * for why segment names then stay stable, and segment-flush.ts for the order of a flush.
 *
 * It reaches Kafka only through ports (shared/kafka-ports.ts, the DeadLetterSink of shared/ports.ts);
 * cli/archiver-wiring.ts builds the adapters (docs/design-decisions.md, "Ports", "Consumer groups").
 */
import type { Config } from '../../platform/config.js';
import type { Service } from '../../platform/lifecycle.js';
import type { Logger } from '../../platform/logger.js';
import type { Metrics } from '../../platform/metrics.js';
import type { ConsumedBatch, ConsumerGroup, ConsumerGroupFactory, TimestampType, TopicAdmin } from '../../shared/kafka-ports.js';
import type { DeadLetterSink, MasterDataset } from '../../shared/ports.js';
import type { ViewSet } from '../../shared/views/definition.js';
import { archiverExtraMetrics, type ArchiverExtraMetrics } from './archiver-metrics.js';
import { FlushBackoff } from './flush-backoff.js';
import { IdleHeartbeat } from './idle-heartbeat.js';
import { PartitionEnds } from './partition-ends.js';
import { PartitionState, resumeDecision, withGap } from './partition-state.js';
import { toConsumedRecord } from './record.js';
import { FencedError, flushSegment, SegmentTakenError, type FlushTarget } from './segment-flush.js';
import { SerialQueue } from './serial-queue.js';

export interface ArchiverDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  views: ViewSet;
  master: MasterDataset;
  /** the consumer group factory (restarts a consumer kafkajs gave up on, like the speed layer's) */
  consumers: ConsumerGroupFactory;
  /** topic creation, the timestamp type, partition offsets; started and stopped with the archiver */
  admin: TopicAdmin;
  /** the dead-letter topic; started and stopped with the archiver */
  deadLetters: DeadLetterSink;
  /** injectable clock */
  now?: () => number;
}

type Commit = (partition: number, nextOffset: number) => Promise<void>;

export class Archiver implements Service {
  readonly name = 'archiver';
  private readonly admin: TopicAdmin;
  private readonly serial = new SerialQueue();
  private readonly target: FlushTarget;
  private readonly heartbeat: IdleHeartbeat;
  private readonly ends: PartitionEnds;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly extra: ArchiverExtraMetrics;
  private consumer: ConsumerGroup | null = null;
  private states = new Map<number, PartitionState>();
  /** where we last sought each partition in this generation (to tell a real gap from a stale fetch) */
  private soughtTo = new Map<number, number>();
  private readonly backoff: FlushBackoff;
  private assigned: number[] = [];
  /** bumped on every join/leave: work started in an older generation must not commit */
  private generation = 0;
  private inGroup = false;
  /** the direct (non-retrying) commit of the running consumer group, from a batch payload */
  private commit: Commit | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  /** the event topic's message.timestamp.type, read at start */
  private timestampType: TimestampType = 'unknown';

  constructor(private readonly deps: ArchiverDeps) {
    const { config } = deps;
    this.log = deps.log.child({ component: 'archiver' });
    this.extra = archiverExtraMetrics(deps.metrics.registry);
    this.now = deps.now ?? Date.now;
    this.admin = deps.admin;
    this.target = {
      topic: config.kafka.topic,
      master: deps.master,
      deadLetters: deps.deadLetters,
      metrics: deps.metrics,
      onConflict: (key) => {
        this.extra.segmentConflicts.inc();
        this.log.warn({ key }, 'segment write refused: the name holds a different segment (not overwritten)');
      },
    };
    this.heartbeat = new IdleHeartbeat(config.kafka.topic, deps.master, this.admin, deps.metrics, (n) => this.extra.gapOffsets.inc(n));
    this.backoff = new FlushBackoff(config.retry);
    this.ends = new PartitionEnds(config.kafka.topic, this.admin, this.now, this.log, (n) => this.extra.gapOffsets.inc(n));
  }

  private get topic(): string {
    return this.deps.config.kafka.topic;
  }

  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      await this.stop(); // release what was connected before the failure
      throw err;
    }
    this.scheduleTick();
    this.log.info({ topic: this.topic, groupId: this.deps.config.archiver.groupId, master: this.deps.master.describe() }, 'archiver started');
  }

  private async connect(): Promise<void> {
    const { config } = this.deps;
    const partitions = config.kafka.partitions;
    await this.admin.ensureTopics([
      { topic: this.topic, partitions },
      { topic: config.kafka.dlqTopic, partitions },
    ]);
    this.timestampType = await this.admin.timestampType(this.topic);
    if (this.timestampType !== 'LogAppendTime') {
      this.log.warn(
        { topic: this.topic, timestampType: this.timestampType },
        'the event topic does not use message.timestamp.type=LogAppendTime: record timestamps are producer clocks, so completeThrough advances only when the archiver is caught up',
      );
    }
    await this.deps.deadLetters.start();
    await this.admin.start();
    // A crash kafkajs will not restart is restarted by the group with backoff, as the speed
    // layer's is: the next assignment positions every partition from its checkpoint again.
    this.consumer = this.deps.consumers({
      role: 'archiver',
      groupId: config.archiver.groupId,
      topic: this.topic,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      maxWaitTimeMs: Math.min(1_000, Math.max(50, config.archiver.flushMs)),
      autoCommit: false,
      eachBatch: (p) => this.onBatch(p),
      onJoin: (partitions) => this.onJoin(partitions),
      onLeave: (why) => this.onLeave(why),
      onRestart: () => this.deps.metrics.archiver.consumerRestarts.inc(),
    });
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.backoff.clear();
    const consumer = this.consumer;
    if (consumer) {
      if (this.inGroup) consumer.pause();
      // Flush what is buffered while still a group member, so the commit is accepted.
      await this.serial.run(async () => {
        for (const state of [...this.states.values()]) if (state.size > 0) await this.flush(state, this.generation);
      });
      await consumer.stop();
    }
    await this.admin.stop();
    await this.deps.deadLetters.stop();
    this.log.info('archiver stopped');
  }

  private onJoin(partitions: number[]): void {
    // kafkajs restarts every assigned partition from the committed offset after a join, so all
    // buffers are dropped (their offsets were never committed) and each partition is positioned
    // again from its checkpoint on its first batch.
    this.generation++;
    this.states.clear();
    this.soughtTo.clear();
    this.assigned = [...partitions].sort((a, b) => a - b);
    this.inGroup = true;
    this.log.info({ partitions: this.assigned, generation: this.generation }, 'archiver assigned partitions');
  }

  private onLeave(why: string): void {
    this.generation++;
    this.inGroup = false;
    this.states.clear();
    this.log.info({ why }, 'archiver left the group: buffers dropped, they will be read again');
  }

  private async onBatch(payload: ConsumedBatch): Promise<void> {
    if (payload.batch.messages.length === 0) return;
    this.commit = (partition, next) => payload.commitOffsetsIfNecessary({ topics: [{ topic: this.topic, partitions: [{ partition, offset: String(next) }] }] });
    await this.serial.run(() => this.consume(payload));
    await payload.heartbeat();
  }

  private async consume(payload: ConsumedBatch): Promise<void> {
    const { batch, resolveOffset, isRunning, isStale } = payload;
    const gen = this.generation;
    const live = () => gen === this.generation && !this.stopping && isRunning() && !isStale();
    const first = batch.messages[0];
    if (!live() || !first) return;
    const state = this.states.get(batch.partition) ?? (await this.position(batch.partition, Number(first.offset)));
    if (!state || !live()) return;
    state.observe(Number(batch.highWatermark));
    const { flushEvents, flushMs } = this.deps.config.archiver;
    for (const m of batch.messages) {
      if (!live()) return;
      if (Number(m.offset) >= state.nextOffset) state.add(toConsumedRecord(this.topic, batch.partition, m, this.deps.views), this.now());
      resolveOffset(m.offset);
      if (state.size >= flushEvents && !(await this.flush(state, gen))) return;
    }
    if (state.isDue(this.now(), flushMs)) await this.flush(state, gen);
  }

  /** First batch of a partition in this generation: resume right after its checkpoint. */
  private async position(partition: number, firstOffset: number): Promise<PartitionState | null> {
    const gen = this.generation;
    const cp = (await this.deps.master.readCheckpoints()).find((c) => c.topic === this.topic && c.partition === partition);
    if (gen !== this.generation) return null;
    const d = resumeDecision(cp, firstOffset, this.soughtTo.get(partition));
    if (d.kind === 'seek') {
      this.soughtTo.set(partition, d.offset);
      this.consumer?.seek(partition, d.offset);
      this.log.info({ partition, from: firstOffset, to: d.offset }, 'seeking back to the checkpoint');
      return null;
    }
    let gaps = cp?.gaps ?? [];
    if (d.missing) {
      // Offsets Kafka deleted before they were read are an archive gap (partition-ends.ts).
      const gap = await this.ends.deletedGap(partition, d.missing, () => gen === this.generation);
      if (gap === 'stale') return null;
      if (gap) gaps = withGap(gaps, gap);
    }
    const state = new PartitionState(partition, d.lastArchived, d.completeThrough, gaps, this.timestampType === 'LogAppendTime');
    this.states.set(partition, state);
    return state;
  }

  /** Writes the open segment; on failure rewinds the partition to its checkpoint. */
  private async flush(state: PartitionState, gen: number): Promise<boolean> {
    const started = this.now();
    const draft = state.draft(started, await this.ends.caughtUpAt(state));
    const fencedCommit: Commit = async (partition, next) => {
      if (gen !== this.generation || !this.inGroup || !this.commit) throw new FencedError(partition);
      await this.commit(partition, next);
    };
    try {
      const { file } = await flushSegment(this.target, draft, fencedCommit, started);
      state.archived(draft);
      this.backoff.succeeded(state.partition);
      this.deps.metrics.archiver.flushSeconds.observe((this.now() - started) / 1000);
      this.log.debug({ partition: state.partition, key: file?.key ?? null, records: draft.lastOffset - draft.firstOffset + 1 }, 'segment archived');
      return true;
    } catch (err) {
      this.rewind(state, err);
      return false;
    }
  }

  private rewind(state: PartitionState, err: unknown): void {
    const partition = state.partition;
    if (this.states.get(partition) === state) this.states.delete(partition);
    if (err instanceof SegmentTakenError) {
      // Another archiver's checkpoint vouches for the segment: it wins. If this archiver still has
      // the partition, its next batch positions it again from that checkpoint.
      this.log.warn({ partition, err: err.message }, 'flush abandoned: another archiver archived this range; its checkpoint wins');
      return;
    }
    if (err instanceof FencedError) {
      this.log.info({ partition }, 'flush abandoned: partition no longer ours');
      return;
    }
    this.deps.metrics.archiver.flushFailures.inc();
    const { attempt, delayMs } = this.backoff.failed(partition);
    this.log.error({ err, partition, attempt, retryInMs: delayMs }, 'segment flush failed: reading the partition again from its checkpoint');
    if (this.consumer && this.inGroup && !this.stopping) this.backoff.rewind(this.consumer, partition, state.lastArchived + 1, delayMs);
  }

  /** Timed flushes of quiet partitions, and the idle heartbeat that keeps `completeThrough` moving. */
  private scheduleTick(): void {
    const { flushMs } = this.deps.config.archiver;
    this.timer = setTimeout(
      () => {
        void this.serial
          .run(async () => {
            if (this.stopping || !this.inGroup) return;
            const gen = this.generation;
            for (const state of [...this.states.values()]) if (state.isDue(this.now(), flushMs)) await this.flush(state, gen);
            await this.heartbeat.maybeBeat({
              every: flushMs,
              partitions: this.assigned,
              states: this.states,
              live: () => gen === this.generation && this.inGroup,
              now: this.now,
            });
          })
          .catch((err: unknown) => this.log.warn({ err }, 'archiver tick failed; trying again next tick'))
          .finally(() => {
            if (!this.stopping) this.scheduleTick();
          });
      },
      Math.max(10, Math.min(1_000, Math.floor(flushMs / 4))),
    );
  }
}
