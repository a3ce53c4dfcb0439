/**
 * The registry race behind speed-consumer-restart's CI failures (stops 26 and 28), made
 * deterministic on real Redis: an assignment whose stored state names another topic fails
 * (CONFIG_INVALID); an operator corrects the state; the fetch handler then applies the partition
 * with no new assignment. Readers merge over the registry of partitions, so the failed assignment
 * must already have listed the partition, or its views are left out of every read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { LAYOUT_VERSION, partitionStateKey } from '../../adapters/redis/keys.js';
import { RedisSpeedStateStore } from '../../adapters/redis/speed-state-store.js';
import { silentLogger } from '../../platform/logger.js';
import { retentionPolicy } from '../../shared/speed/retention.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { ensurePartitionState } from '../../speed-layer/partition-init.js';
import { applyToSpeed } from '../support/speed-apply.js';
import { deletePrefix, expectEqualsReference, readAllViews, speedContext, viewStore } from '../support/speed-harness.js';
import type { TestContext } from '../support/context.js';

const views = defaultViewSet();

describe('speed partition registry', () => {
  let ctx: TestContext;
  let redis: Redis;

  beforeAll(() => {
    ctx = speedContext();
    redis = new Redis(ctx.config.redis.url);
  });
  afterAll(async () => {
    await deletePrefix(redis, ctx.config.redis.keyPrefix);
    redis.disconnect();
    ctx.cleanup();
  });

  it('lists a partition whose assignment failed the state check, so its views are read once the state is corrected', async () => {
    const { config } = ctx;
    const { keyPrefix: prefix } = config.redis;
    const topic = config.kafka.topic;
    const state = new RedisSpeedStateStore(redis, prefix, retentionPolicy(config), config.speed.dedupeWindowMs);
    const stateKey = partitionStateKey(prefix, 0);
    await redis.hset(stateKey, 'next', '0', 'coveredSince', '0', 'topic', 'some-other-topic', 'layout', String(LAYOUT_VERSION));
    const deps = {
      store: state,
      // never asked: a stored state is found
      offsets: { offsetsForTime: () => Promise.reject(new Error('not expected: the state exists')) },
      topic,
      prefix,
      coverFrom: 'earliest' as const,
      log: silentLogger(),
    };
    await expect(ensurePartitionState(deps, 0)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });

    // The operator's fix, then the fetch handler's apply with no new assignment.
    await redis.hset(stateKey, 'topic', topic);
    const now = Date.now();
    const lines = [0, 1, 2].map((i) => JSON.stringify({ id: `r-${i}`, ts: now - i * 1000, type: 'pageview', url: `/r${i}`, user: `u${i}` }));
    await applyToSpeed(state, config, views, 0, lines, { arrival: now, coveredSince: 0, now, init: false });

    const actual = await readAllViews(viewStore(redis, config, views), views);
    expect(actual.size).toBeGreaterThan(0); // the partition is merged: its views are read
    expectEqualsReference(actual, lines, views);
  });
});
