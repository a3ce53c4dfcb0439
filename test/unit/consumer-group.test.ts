/**
 * The crash and restart policy of the one consumer group factory (docs/design-decisions.md,
 * "Consumer groups"), on an in-memory consumer: a crash kafkajs will not restart is restarted with
 * a fresh consumer after a capped exponential backoff that grows while the crashes keep coming; a
 * crash kafkajs restarts itself is left to it; nothing restarts once the group is stopping.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { consumerGroups, CRASH_STREAK_RESET_MS, heartbeatIntervalMs } from '../../adapters/kafka/consumer-group.js';
import { silentLogger } from '../../platform/logger.js';
import type { ConsumerGroupSpec } from '../../shared/kafka-ports.js';
import { fakeConsumers } from '../support/consumer-fakes.js';

const BASE = 100;
const MAX = 1_000;

function setup(extra: Partial<ConsumerGroupSpec> = {}) {
  const fakes = fakeConsumers();
  const calls = { joins: [] as number[][], leaves: [] as string[], restarts: 0, retries: 0, starts: 0, running: 0 };
  let t = 1_000_000;
  const clock = { advance: (ms: number) => (t += ms) };
  const factory = consumerGroups(fakes.make, {
    log: silentLogger(),
    retry: { baseMs: BASE, maxMs: MAX },
    now: () => t,
    random: () => 1, // no jitter: the delay is the full exponential step
  });
  const group = factory({
    role: 'test',
    groupId: 'g',
    topic: 'events',
    sessionTimeoutMs: 30_000,
    autoCommit: false,
    eachBatch: async () => undefined,
    onJoin: (p) => calls.joins.push(p),
    onLeave: (why) => calls.leaves.push(why),
    beforeStart: async () => void calls.starts++,
    onRunning: () => void calls.running++,
    onRestart: () => void calls.restarts++,
    onRestartRetry: () => void calls.retries++,
    ...extra,
  });
  return { fakes, calls, group, clock };
}

/** Lets the crash's backoff run out (and the restart's promises settle). */
async function after(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

describe('consumer group factory', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('one heartbeat formula: a third of the session, between 500 ms and 3 s', () => {
    expect(heartbeatIntervalMs(6_000)).toBe(2_000);
    expect(heartbeatIntervalMs(30_000)).toBe(3_000);
    expect(heartbeatIntervalMs(900)).toBe(500);
  });

  it('makes the consumer with that heartbeat and wires the group events', async () => {
    const { fakes, calls, group } = setup({ maxWaitTimeMs: 250, concurrentPartitions: 2 });
    expect(() => group.pause()).toThrow(/not been started/);
    await group.start();
    const c = fakes.latest();
    expect(c.config).toMatchObject({ groupId: 'g', sessionTimeout: 30_000, heartbeatInterval: 3_000, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
    expect(c.runConfig).toMatchObject({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 2 });
    expect([calls.starts, calls.running]).toEqual([1, 1]);
    c.join({ events: [1, 0], other: [5] });
    c.rebalance();
    c.join({ other: [5] });
    expect(calls.joins).toEqual([[1, 0], []]);
    expect(calls.leaves).toEqual(['rebalancing']);
    group.seek(1, 42);
    group.pause([1]);
    group.pause();
    expect(c.seeks).toEqual([{ topic: 'events', partition: 1, offset: '42' }]);
    expect(c.pauses).toEqual([[{ topic: 'events', partitions: [1] }], [{ topic: 'events' }]]);
  });

  it('restarts a consumer kafkajs will not restart, with a fresh consumer after the backoff', async () => {
    const { fakes, calls, group } = setup();
    await group.start();
    fakes.latest().crash(new Error('non-retriable'), false);
    expect(calls.leaves).toEqual(['crash']);
    expect(calls.restarts).toBe(1);
    await after(BASE - 1);
    expect(fakes.made).toHaveLength(1);
    await after(1);
    expect(fakes.made).toHaveLength(2);
    const fresh = fakes.latest();
    expect(fresh.connected).toBe(true);
    expect(fresh.runConfig).not.toBeNull();
    expect([calls.starts, calls.running]).toEqual([2, 2]);
    // The group now drives the new consumer.
    group.seek(0, 7);
    expect(fresh.seeks).toEqual([{ topic: 'events', partition: 0, offset: '7' }]);
    expect(fakes.made[0]?.seeks).toEqual([]);
    await group.stop();
    expect(fresh.disconnects).toBe(1);
  });

  it('backs off longer while the crashes keep coming, capped, and from the base again after a quiet minute', async () => {
    const { fakes, calls, group, clock } = setup();
    await group.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = fakes.made.length;
      fakes.latest().crash(new Error('again'), false);
      let waited = 0;
      while (fakes.made.length === before) {
        await after(BASE / 4);
        waited += BASE / 4;
      }
      delays.push(waited);
      clock.advance(1_000);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(calls.restarts).toBe(6);

    clock.advance(CRASH_STREAK_RESET_MS + 1);
    fakes.latest().crash(new Error('much later'), false);
    await after(BASE - 1);
    expect(fakes.made).toHaveLength(7);
    await after(1);
    expect(fakes.made).toHaveLength(8);
  });

  it('retries a restart that fails until it works, counted as one restart', async () => {
    const { fakes, calls, group } = setup();
    await group.start();
    fakes.failConnects = 2; // the broker is still down for the first two attempts
    fakes.latest().crash(new Error('non-retriable'), false);
    await after(BASE);
    expect(fakes.made).toHaveLength(2);
    expect(fakes.latest().disconnects).toBe(1); // a failed attempt leaves nothing connected
    await after(MAX * 4);
    expect(fakes.made).toHaveLength(4);
    expect(fakes.latest().connected).toBe(true);
    expect(calls.retries).toBe(2);
    expect(calls.restarts).toBe(1);
  });

  it('leaves a crash kafkajs restarts itself to kafkajs', async () => {
    const { fakes, calls, group } = setup();
    await group.start();
    fakes.latest().crash(new Error('retriable, kafkajs restarts'), true);
    await after(MAX * 10);
    expect(fakes.made).toHaveLength(1);
    expect(calls.leaves).toEqual(['crash']);
    expect(calls.restarts).toBe(0);
  });

  it('does not restart while stopping: a crash during the stop, or a stop during the backoff', async () => {
    const first = setup();
    await first.group.start();
    await first.group.stop();
    first.fakes.latest().crash(new Error('disconnect raced a join'), false);
    await after(MAX * 10);
    expect(first.fakes.made).toHaveLength(1);
    expect(first.calls.restarts).toBe(0);
    expect(first.calls.leaves).toEqual(['crash']);

    const second = setup();
    await second.group.start();
    second.fakes.latest().crash(new Error('non-retriable'), false);
    await second.group.stop(); // wakes the backoff at once; no new consumer is made
    await after(MAX * 10);
    expect(second.fakes.made).toHaveLength(1);
    expect(second.calls.restarts).toBe(1);
  });
});
