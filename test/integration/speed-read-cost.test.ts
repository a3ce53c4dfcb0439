/**
 * What a read costs in Redis (issue 13): a 7-day hourly series of a view with a distinct measure
 * is one read script per partition plus one PFCOUNT script per HLL slot (64 buckets each), not a
 * command per bucket and group. Counted at the client: every command the store sends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis, type Command } from 'ioredis';
import { retentionPolicy } from '../../shared/speed/retention.js';
import { RedisSpeedStateStore } from '../../adapters/redis/speed-state-store.js';
import { RedisSpeedViewStore } from '../../adapters/redis/speed-view-store.js';
import { HOUR_MS, floorTo } from '../../shared/time.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { claimRequests, parseRecords, planBatch, resolveClaims } from '../../speed-layer/plan.js';
import { deletePrefix, speedContext } from '../support/speed-harness.js';
import type { TestContext } from '../support/context.js';

const views = defaultViewSet();

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
      const records = parseRecords(
        values.map((value, offset) => ({ offset, key: null, value, timestamp: from + 7 * 24 * HOUR_MS })),
        views,
      );
      const req = claimRequests(records, config.speed.dedupeWindowMs);
      const claims = resolveClaims(req.flags, req.at, await state.claim(partition, req.items));
      const plan = planBatch({
        partition,
        records,
        claims,
        expectedNext: 0,
        views,
        dedupe: true,
        watermark: null,
        allowedLatenessMs: 7 * 24 * HOUR_MS,
        nowMs: Date.now(),
      });
      expect(await state.apply(plan.apply)).toMatchObject({ applied: true });
    }

    const reader = new Redis(config.redis.url);
    const sent: string[] = [];
    const original = reader.sendCommand.bind(reader);
    reader.sendCommand = ((command: Command, stream?: unknown) => {
      sent.push(command.name);
      return original(command, stream as never);
    }) as typeof reader.sendCommand;
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
});
