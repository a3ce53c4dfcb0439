/**
 * What a read costs in Redis (issue 13): a 7-day hourly series of a view with a distinct measure
 * is one read script per partition plus one PFCOUNT script per HLL slot (64 buckets each), not a
 * command per bucket and group. Counted at the client: every command the store sends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis, type Command } from 'ioredis';
import { bucketExpireAtMs, retentionPolicy } from '../../shared/speed/retention.js';
import { CLOCK_SKEW_MS } from '../../adapters/redis/speed-content-check.js';
import { partitionStateKey } from '../../adapters/redis/keys.js';
import { RedisSpeedStateStore } from '../../adapters/redis/speed-state-store.js';
import { RedisSpeedViewStore } from '../../adapters/redis/speed-view-store.js';
import { HOUR_MS, floorTo } from '../../shared/time.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { applyToSpeed } from '../support/speed-apply.js';
import { deletePrefix, speedContext } from '../support/speed-harness.js';
import { waitUntil } from '../support/wait.js';
import type { TestContext } from '../support/context.js';

const views = defaultViewSet();

/** Every command `client` sends from now on, by name, until `stop()`. */
function recordCommands(client: Redis): { sent: string[]; stop(): void } {
  const sent: string[] = [];
  const original = client.sendCommand.bind(client);
  client.sendCommand = ((command: Command, stream?: unknown) => {
    sent.push(command.name);
    return original(command, stream as never);
  }) as typeof client.sendCommand;
  return {
    sent,
    stop: () => {
      client.sendCommand = original;
    },
  };
}

describe('speed read cost', () => {
  let ctx: TestContext;
  let redis: Redis;

  beforeAll(() => {
    // A weekly batch cron keeps hour buckets for two weeks: the whole 7 days stay readable.
    ctx = speedContext({ LAMBDA_BATCH_CRON: '0 0 * * 0' });
    redis = new Redis(ctx.config.redis.url);
  });
  afterAll(async () => {
    await deletePrefix(redis, ctx.config.redis.keyPrefix);
    redis.disconnect();
    ctx.cleanup();
  });

  it('reads a 7-day hourly series with a handful of commands per partition', async () => {
    const { config } = ctx;
    const state = new RedisSpeedStateStore(redis, config.redis.keyPrefix, retentionPolicy(config), config.speed.dedupeWindowMs);
    const end = floorTo(Date.now(), 'hour');
    const from = end - 7 * 24 * HOUR_MS;
    // Every hour of the week, 20 URLs, on two partitions.
    for (const partition of [0, 1]) {
      await state.initPartition(config.kafka.topic, partition, { next: 0, coveredSince: 0 });
      const values: string[] = [];
      for (let h = 0; h < 7 * 24; h++) {
        for (let u = 0; u < 20; u++)
          values.push(JSON.stringify({ id: `p${partition}-${h}-${u}`, ts: from + h * HOUR_MS + u, type: 'pageview', url: `/u/${u}`, user: `v${u % 7}` }));
      }
      await applyToSpeed(state, config, views, partition, values, { arrival: from + 7 * 24 * HOUR_MS, coveredSince: 0, now: Date.now() });
    }

    const reader = new Redis(config.redis.url);
    const { sent } = recordCommands(reader);
    try {
      const store = new RedisSpeedViewStore(reader, { prefix: config.redis.keyPrefix, views, retention: retentionPolicy(config) });
      await store.series({ view: 'pageviews', granularity: 'hour', from: from - 1, to: end }); // loads the scripts once
      sent.length = 0;
      const rows = await store.series({ view: 'pageviews', granularity: 'hour', from, to: end });
      expect(rows).toHaveLength(7 * 24 * 20);
      expect(rows.every((r) => r.values.views === 2 && r.values.visitors === 1)).toBe(true);
      // 1 SMEMBERS (partitions) + 1 read script per partition + 1 PFCOUNT script per HLL slot the
      // 168 hours span (at most 4 slots of 64 hours): 7 at most, against 190 before.
      const slots = Math.floor((end - HOUR_MS) / (64 * HOUR_MS)) - Math.floor(from / (64 * HOUR_MS)) + 1;
      expect(sent.filter((n) => n !== 'evalsha').length).toBe(1);
      expect(sent.filter((n) => n === 'evalsha').length).toBe(2 + slots);
      expect(sent.length).toBeLessThanOrEqual(7);

      // A filter on every dimension reads that one group's fields, with the same numbers.
      const all = rows.filter((r) => r.dims[0] === '/u/3');
      const one = await store.series({ view: 'pageviews', granularity: 'hour', from, to: end, filter: { url: '/u/3' } });
      expect(one).toEqual(all);
      expect(await store.series({ view: 'pageviews', granularity: 'hour', from, to: end, filter: { url: '/nowhere' } })).toEqual([]);
    } finally {
      reader.disconnect();
    }
  });

  it('checks whether a range changed with one command per partition; the token moves with every apply and every rebuilt state', async () => {
    const { config } = ctx;
    const state = new RedisSpeedStateStore(redis, config.redis.keyPrefix, retentionPolicy(config), config.speed.dedupeWindowMs);
    const store = new RedisSpeedViewStore(redis, { prefix: config.redis.keyPrefix, views, retention: retentionPolicy(config) });
    const end = floorTo(Date.now(), 'hour');
    const q = { view: 'pageviews', granularity: 'hour' as const, from: end - 7 * 24 * HOUR_MS, to: end + HOUR_MS };
    const at = { arrival: end, coveredSince: 0, now: Date.now() };
    await applyToSpeed(state, config, views, 2, [JSON.stringify({ id: 'c-1', ts: end, type: 'pageview', url: '/c', user: 'v1' })], at);

    const recorded = recordCommands(redis);
    let first: Awaited<ReturnType<RedisSpeedViewStore['contentCheck']>>;
    try {
      first = await store.contentCheck(q);
      expect(recorded.sent).toEqual(['smembers', 'hmget', 'hmget', 'hmget']); // the partitions, then each one's state
    } finally {
      recorded.stop();
    }
    // No bucket of the range expires before its first bucket does (less the clock skew allowed).
    expect(first.validUntil).toBe(bucketExpireAtMs(q.from, 'hour', retentionPolicy(config)) - CLOCK_SKEW_MS);
    expect((await store.contentCheck(q)).token).toBe(first.token); // nothing applied: the same

    // An apply that only adds a distinct member to an existing group (a visitor already counted elsewhere) still moves it.
    await applyToSpeed(state, config, views, 2, [JSON.stringify({ id: 'c-2', ts: end, type: 'pageview', url: '/c', user: 'v2' })], { ...at, first: 1 });
    const second = await store.contentCheck(q);
    expect(second.token).not.toBe(first.token);

    // A state rebuilt from the same offset (another layout, lost data) is told apart by its creation.
    const createdAt = Number(await redis.hget(partitionStateKey(config.redis.keyPrefix, 2), 'createdAt'));
    expect(createdAt).toBeGreaterThan(0);
    await redis.del(partitionStateKey(config.redis.keyPrefix, 2));
    expect((await store.contentCheck(q)).token).not.toBe(second.token);
    // createdAt is in ms: a re-init within the same ms would look alike, so the clock moves on first.
    await waitUntil(
      () => Date.now(),
      (t) => t > createdAt,
      { what: 'the clock to pass the first state creation', intervalMs: 1 },
    );
    await state.initPartition(config.kafka.topic, 2, { next: 2, coveredSince: 0 });
    expect((await store.contentCheck(q)).token).not.toBe(second.token);
  });
});
