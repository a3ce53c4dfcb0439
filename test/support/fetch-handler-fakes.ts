/**
 * A FetchHandler's dependencies on in-memory fakes (docs/design-decisions.md, "Ports"): the speed
 * state store, the dead-letter sink, the default views, fresh metrics, positions that record the
 * seeks, and partition 0 of topic "events" initialised at offset 0 on first sight. A test
 * overrides what it is about (the apply size, the control hooks, positions already set).
 */
import { silentLogger } from '../../platform/logger.js';
import type { ConsumedBatch } from '../../shared/kafka-ports.js';
import { createMetrics } from '../../platform/metrics.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { ConsumerPositions } from '../../speed-layer/consumer-positions.js';
import type { FetchHandlerDeps } from '../../speed-layer/fetch-handler.js';
import { ProgressTracker } from '../../speed-layer/progress.js';
import { ReplayNotes } from '../../speed-layer/replays.js';
import { FakeDeadLetterSink, FakeSpeedStateStore } from './speed-fakes.js';

export interface FakeHandlerDeps extends FetchHandlerDeps {
  store: FakeSpeedStateStore;
  deadLetters: FakeDeadLetterSink;
  /** every offset a seek moved the consumer to, in order */
  seeks: number[];
}

export function fakeHandlerDeps(overrides: Partial<FetchHandlerDeps> = {}): FakeHandlerDeps {
  const store = new FakeSpeedStateStore();
  const metrics = createMetrics();
  const seeks: number[] = [];
  return {
    topic: 'events',
    prefix: 'test',
    views: defaultViewSet(),
    dedupe: true,
    dedupeWindowMs: 24 * 3_600_000,
    allowedLatenessMs: 0,
    applyMaxEvents: 64,
    retry: { baseMs: 1, maxMs: 1 },
    store,
    deadLetters: new FakeDeadLetterSink(),
    metrics,
    log: silentLogger(),
    progress: new ProgressTracker('test', metrics),
    replays: new ReplayNotes({ store, instance: 'test', metrics, log: silentLogger() }),
    positions: new ConsumerPositions((_p, offset) => void seeks.push(offset)),
    ensurePartition: (p) => store.initPartition('events', p, { next: 0, coveredSince: 0 }),
    logStartOffset: () => Promise.resolve(0),
    stopping: () => false,
    seeks,
    ...overrides,
  } as FakeHandlerDeps;
}

/** A record as the handler gets it: offset, key, value text, Kafka timestamp (epoch ms). */
export interface FetchedRecord {
  offset: number;
  key: string | null;
  value: string;
  timestamp: number;
}

/**
 * One fetched batch of partition 0 as the consumer port hands it over, fetched from its first
 * record's offset unless `fetchedOffset` says otherwise (a fetch that found nothing at the offset
 * it asked for, or one issued before a seek).
 */
export function fetchedBatch(
  records: readonly FetchedRecord[],
  opts: { highWatermark: number; fetchedOffset?: number; resolveOffset?: (offset: string) => void },
): ConsumedBatch {
  return {
    batch: {
      topic: 'unused',
      partition: 0,
      highWatermark: String(opts.highWatermark),
      fetchedOffset: String(opts.fetchedOffset ?? records[0]?.offset ?? 0),
      messages: records.map((r) => ({
        offset: String(r.offset),
        key: r.key === null ? null : Buffer.from(r.key),
        value: Buffer.from(r.value),
        timestamp: String(r.timestamp),
      })),
    },
    resolveOffset: opts.resolveOffset ?? (() => undefined),
    heartbeat: () => Promise.resolve(),
    commitOffsetsIfNecessary: () => Promise.resolve(),
    isRunning: () => true,
    isStale: () => false,
  };
}
