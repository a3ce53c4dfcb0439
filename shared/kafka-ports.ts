/**
 * The Kafka ports of the two consumers, the speed layer and the archiver (docs/design-decisions.md,
 * "Ports" and "Consumer groups"): a consumer group made by one factory that holds the heartbeat,
 * the group event wiring and the crash and restart policy of both, and the topic admin the
 * archiver needs. Types only: adapters/kafka/consumer-group.ts and adapters/kafka/topic-admin.ts
 * implement them, cli/ wires them.
 */

/** One record as the consumer hands it over (a structural subset of kafkajs's KafkaMessage). */
export interface ConsumedMessage {
  key: Buffer | null;
  value: Buffer | null;
  /** epoch ms as a decimal string */
  timestamp: string;
  /** a decimal string */
  offset: string;
}

/** Offsets to commit: per topic, per partition, the next offset to read. */
export interface CommitOffsets {
  topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
}

/** One fetched batch of one partition, with the controls of its handler (a subset of kafkajs's EachBatchPayload). */
export interface ConsumedBatch {
  batch: {
    topic: string;
    partition: number;
    highWatermark: string;
    /**
     * the offset the fetch asked for: a first message past it proves the offsets in between hold
     * no records (control records, compaction), where a first message past the consumer's own
     * position may come from a fetch issued before a seek
     */
    fetchedOffset: string;
    messages: ConsumedMessage[];
  };
  /** marks the offset processed: the consumer goes on after it, and auto-commit commits it */
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  /** commits the given offsets against the group coordinator now (rejected when this member lost the partition) */
  commitOffsetsIfNecessary(offsets: CommitOffsets): Promise<void>;
  /** false once the consumer is stopping or crashed */
  isRunning(): boolean;
  /** true once a seek or a rebalance made the batch's remaining records stale */
  isStale(): boolean;
}

/** What a layer asks of its consumer group. */
export interface ConsumerGroupSpec {
  /** 'speed' | 'archiver': names the group in logs */
  role: string;
  groupId: string;
  /** the one topic the group reads, from the beginning when it has no committed offset */
  topic: string;
  /** LAMBDA_KAFKA_SESSION_TIMEOUT_MS; the heartbeat interval follows from it (the factory's one formula) */
  sessionTimeoutMs: number;
  /** the longest a fetch waits for records (absent: the client's default) */
  maxWaitTimeMs?: number;
  /** commit resolved offsets automatically (speed), or only by the handler's own commits (archiver) */
  autoCommit: boolean;
  /** partitions handled at once (default 1) */
  concurrentPartitions?: number;
  /** handles one fetched batch; a rejection crashes the consumer (kafkajs, restartable or not) */
  eachBatch(batch: ConsumedBatch): Promise<void>;
  /** the group gave this member these partitions of the topic (possibly none) */
  onJoin?(partitions: number[]): void;
  /** this member's assignment ended: a rebalance began, or the consumer crashed (also while stopping) */
  onLeave?(why: 'rebalancing' | 'crash'): void;
  /** before each start of a consumer, the first and every restart (a new consumer starts unpaused) */
  beforeStart?(): Promise<void>;
  /** after each start, once the consumer runs (pause() works from here on) */
  onRunning?(): void;
  /** counts one restart after a crash the client would not restart itself (a metric per role) */
  onRestart?(): void;
  /** counts one failed attempt of such a restart (another follows after `delayMs`) */
  onRestartRetry?(err: unknown, attempt: number, delayMs: number): void;
}

/** A consumer group member that restarts itself after a crash (the policy in docs/design-decisions.md, "Consumer groups"). */
export interface ConsumerGroup {
  /** makes a consumer, connects, subscribes and runs it: one attempt, rejects (disconnected) on failure */
  start(): Promise<void>;
  /** ends a pending restart and disconnects (kafkajs waits for the batch in flight); no restart after it */
  stop(): Promise<void>;
  /** moves the partition of the topic to `offset` (throws before the consumer runs) */
  seek(partition: number, offset: number): void;
  /** stops fetching these partitions of the topic, every partition when absent (throws before the consumer runs) */
  pause(partitions?: readonly number[]): void;
  resume(partitions?: readonly number[]): void;
}

export type ConsumerGroupFactory = (spec: ConsumerGroupSpec) => ConsumerGroup;

/** A topic's `message.timestamp.type` as the broker reports it. */
export type TimestampType = 'LogAppendTime' | 'CreateTime' | 'unknown';

/** Per partition, the first offset Kafka still holds (`low`) and the offset the next record gets (`high`). */
export interface PartitionOffsets {
  partition: number;
  low: number;
  high: number;
}

/** The archiver's view of Kafka's admin API. */
export interface TopicAdmin {
  /** opens the connection partitionOffsets uses */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** creates the topics that do not exist yet */
  ensureTopics(topics: readonly { topic: string; partitions: number }[]): Promise<void>;
  timestampType(topic: string): Promise<TimestampType>;
  partitionOffsets(topic: string): Promise<PartitionOffsets[]>;
}
