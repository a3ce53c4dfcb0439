/**
 * The speed layer's fetch handler on in-memory fakes of its ports (test/support/speed-fakes.ts):
 * fetched batches that replay, overlap and straddle the stored offset apply every record exactly
 * once, skip duplicate ids, send each invalid record to the dead letters once (also when the store
 * lost writes and the records are applied again), and a fresh
 * partition starts where TopicOffsets puts it (docs/design-decisions.md §6, "Ports"). The same
 * guards against real Redis and Kafka: test/integration/speed-fetch-handler.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { fakeHandlerDeps, fetchedBatch } from '../support/fetch-handler-fakes.js';
import { silentLogger } from '../../platform/logger.js';
import { clickstream, type GeneratedRecord } from '../../shared/generator/clickstream.js';
import { validDeduped } from '../../shared/reference-fold.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { FetchHandler } from '../../speed-layer/fetch-handler.js';
import { ensurePartitionState } from '../../speed-layer/partition-init.js';
import { FakeSpeedStateStore, fakeTopicOffsets } from '../support/speed-fakes.js';

const views = defaultViewSet();
const T0 = Date.now() - 3_600_000;
const records: GeneratedRecord[] = [];
for (const r of clickstream({ seed: 6, startTs: T0, rate: 2, duplicateFraction: 0.1, invalidFraction: 0.05 })) {
  if (records.length === 500) break;
  records.push(r);
}
/** Kafka timestamp (arrival) of the record at each offset */
const arrival = (offset: number) => T0 + offset * 500;

function fixture() {
  const deps = fakeHandlerDeps();
  const { store, deadLetters, seeks } = deps;
  const handler = new FetchHandler(deps);
  /** Hands the handler a fetched batch of offsets from..to - 1, as kafkajs would. */
  const fetch = (from: number, to: number) =>
    handler.handle(
      fetchedBatch(
        records.slice(from, to).map((r, i) => ({ offset: from + i, key: r.key, value: r.value, timestamp: arrival(from + i) })),
        { highWatermark: records.length },
      ),
    );
  return { store, deadLetters, seeks, fetch };
}

describe('speed fetch handler on fakes', () => {
  it('applies every record once through replays and overlaps, skips duplicate ids, dead-letters each invalid record once', async () => {
    const { store, deadLetters, seeks, fetch } = fixture();
    await fetch(0, 200); // no state yet: initialises the partition and seeks to its offset
    expect(seeks).toEqual([0]);
    await fetch(0, 200);
    await fetch(0, 350); // a replay straddling the stored offset
    await fetch(350, 500);
    await fetch(0, 500); // a group reset to 0
    const ranges = store.applied.map((a) => [a.expectedNext, a.newNext]);
    ranges.forEach(([from], i) => expect(from).toBe(i === 0 ? 0 : ranges[i - 1]![1]));
    expect(ranges.at(-1)![1]).toBe(500);
    const sum = (k: 'events' | 'duplicatesSkipped' | 'invalid') => store.applied.reduce((n, a) => n + a.totals[k], 0);
    expect(sum('events')).toBe(
      validDeduped(
        records.map((r) => r.value),
        views,
      ).length,
    );
    expect(sum('duplicatesSkipped')).toBe(records.filter((r) => r.kind === 'duplicate').length);
    const invalid = records.flatMap((r, offset) => (r.kind === 'invalid' ? [offset] : []));
    expect(invalid.length).toBeGreaterThan(10);
    expect(sum('invalid')).toBe(invalid.length);
    expect(deadLetters.sent.map((l) => l.offset)).toEqual(invalid);
    expect(deadLetters.sent.every((l) => l.layer === 'speed' && l.topic === 'events' && l.partition === 0)).toBe(true);
  });

  it('after the store lost writes, seeks back and re-applies them, without sending their dead letters again', async () => {
    const { store, deadLetters, seeks, fetch } = fixture();
    await fetch(0, 200);
    await fetch(0, 200);
    store.rollbackBeforeNextApply = { partition: 0, next: 100 };
    await fetch(200, 350); // the apply finds 100 stored, not 200: nothing written, seek back to 100
    expect(seeks).toEqual([0, 100]);
    // The status page is told: partition 0, offsets 100..199 applied again.
    expect(store.replays).toMatchObject([{ partition: 0, from: 100, to: 200, records: 100, instance: 'test', detectedBy: 'fetch' }]);
    await fetch(100, 500);
    const ranges = store.applied.map((a) => [a.expectedNext, a.newNext]);
    expect(ranges.at(-1)![1]).toBe(500);
    expect(ranges.filter(([from]) => from === 100)).toHaveLength(1);
    const invalid = records.flatMap((r, offset) => (r.kind === 'invalid' ? [offset] : []));
    expect(deadLetters.sent.map((l) => l.offset)).toEqual(invalid);
  });

  it('a fresh partition starts at the offset TopicOffsets gives for its coverage, and a stored one is kept', async () => {
    const store = new FakeSpeedStateStore();
    const offsets = fakeTopicOffsets({ logStart: 0, end: 500, timeOf: arrival });
    const deps = { store, offsets, topic: 'events', prefix: 'test', coverFrom: 'now' as const, log: silentLogger() };
    const fresh = await ensurePartitionState(deps, 0);
    expect(fresh.next).toBe(500); // every record arrived before now
    expect(store.registered.has(0)).toBe(true);
    store.partitions.set(1, { next: 42, coveredSince: 7, topic: 'events' });
    expect(await ensurePartitionState(deps, 1)).toEqual({ next: 42, coveredSince: 7, topic: 'events' });
    store.partitions.set(2, { next: 1, coveredSince: 0, topic: 'other' });
    await expect(ensurePartitionState(deps, 2)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    // Listed all the same: once the state is corrected, the handler applies it with no new
    // assignment, and readers must merge its views.
    expect(store.registered.has(2)).toBe(true);
    const earliest = await ensurePartitionState({ ...deps, coverFrom: 'earliest' }, 3);
    expect(earliest).toEqual({ next: 0, coveredSince: 0, topic: 'events' });
  });
});
