/**
 * The Kappa rebuilds' Redis keys are deleted whole, and only theirs (adapters/redis/kappa-registry.ts;
 * docs/design-decisions.md, "Lambda vs Kappa"), on one Redis and on a Redis Cluster, where the keys
 * of one prefix spread over every master and SCAN must walk each: a rebuild with a stale heartbeat
 * (its process died) is cleaned up, a live one is not until it releases itself, and the live speed
 * keys of the same prefix are never touched.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { Cluster } from 'ioredis';
import { createRedis } from '../../adapters/redis/client.js';
import { KappaRegistry } from '../../adapters/redis/kappa-registry.js';
import { allKeyPatterns, kappaPrefix, kappaRebuildsKey, partitionStateKey } from '../../adapters/redis/keys.js';
import type { RedisClient } from '../../adapters/redis/scripts.js';
import { silentLogger } from '../../platform/logger.js';
import { uniqueName } from '../support/names.js';
import { deletePrefix } from '../support/speed-harness.js';

const clients: [RedisClient, string][] = [];
afterAll(async () => {
  for (const [redis, prefix] of clients) {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  }
});

/** Keys of `pattern` over every master. */
async function count(redis: RedisClient, prefix: string): Promise<number> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  let n = 0;
  for (const node of nodes) for (const pattern of allKeyPatterns(prefix)) n += (await node.keys(pattern)).length;
  return n;
}

describe.each([
  ['one Redis', () => inject('services').redisUrl],
  ['a Redis Cluster', () => inject('services').redisClusterUrl],
])('Kappa registry on %s', (_name, url) => {
  it("deletes a dead rebuild's keys on every node, a live one's only on release, and never the live speed keys", async () => {
    const redis = createRedis(url(), silentLogger(), 'kappa-registry-test');
    const prefix = uniqueName('kr');
    clients.push([redis, prefix]);
    const plant = async (id: string) => {
      const p = kappaPrefix(prefix, id);
      // 40 partition shards: 40 hash tags, spread over the slots (and the masters of a cluster).
      for (let i = 0; i < 40; i++) await redis.hset(partitionStateKey(p, i), 'next', String(i));
      await redis.sadd(`${p}:speed:partitions`, '0');
    };
    await plant('dead');
    await plant('alive');
    await redis.hset(partitionStateKey(prefix, 0), 'next', '5');
    await redis.zadd(kappaRebuildsKey(prefix), Date.now() - 120_000, 'dead', Date.now(), 'alive');
    if (redis instanceof Cluster) {
      const holding = await Promise.all(redis.nodes('master').map(async (n) => (await n.keys(`{${kappaPrefix(prefix, 'dead')}:*`)).length));
      expect(holding.filter((k) => k > 0).length, 'the planted keys live on more than one master').toBeGreaterThan(1);
    }
    expect(await count(redis, kappaPrefix(prefix, 'dead'))).toBe(41);

    const registry = new KappaRegistry(redis, prefix);
    expect(await registry.removeStale(60_000)).toEqual(['dead']);
    expect(await count(redis, kappaPrefix(prefix, 'dead'))).toBe(0);
    expect(await count(redis, kappaPrefix(prefix, 'alive'))).toBe(41);
    expect(await registry.release('alive')).toBe(41);
    expect(await count(redis, kappaPrefix(prefix, 'alive'))).toBe(0);
    expect(await redis.zcard(kappaRebuildsKey(prefix))).toBe(0);
    expect(await redis.hget(partitionStateKey(prefix, 0), 'next')).toBe('5');
  });
});
