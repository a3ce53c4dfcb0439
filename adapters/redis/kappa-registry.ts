/**
 * The Kappa rebuilds' keys in Redis (docs/design-decisions.md, "Lambda vs Kappa"): each rebuild
 * writes the speed layer's layout under its own prefix (keys.ts kappaPrefix), with the speed
 * retention off, so its keys never expire by themselves. They are deleted when the rebuild ends,
 * success or failure; a rebuild whose process died is found by its stale heartbeat in the
 * registry (keys.ts kappaRebuildsKey) and deleted by the next rebuild. So repeated rebuilds leak
 * no memory. Deleting walks the keys with SCAN (on every master of a cluster), never KEYS, and
 * runs only when a rebuild starts or ends, never on the hot path.
 */
import { Cluster } from 'ioredis';
import { redisCall } from './client.js';
import { allKeyPatterns, kappaPrefix, kappaRebuildsKey } from './keys.js';
import type { RedisClient } from './scripts.js';

export class KappaRegistry {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  /** Registers (or heartbeats) a rebuild under way. */
  async heartbeat(rebuildId: string): Promise<void> {
    await redisCall('kappa heartbeat', () => this.redis.zadd(kappaRebuildsKey(this.prefix), Date.now(), rebuildId));
  }

  /** Deletes the keys of rebuilds whose heartbeat is older than `staleMs` (their process died); returns their ids. */
  async removeStale(staleMs: number): Promise<string[]> {
    const stale = await redisCall('kappa stale rebuilds', () => this.redis.zrangebyscore(kappaRebuildsKey(this.prefix), 0, Date.now() - staleMs));
    for (const id of stale) await this.release(id);
    return stale;
  }

  /** Deletes every key of the rebuild and its registry entry; returns how many keys were deleted. */
  async release(rebuildId: string): Promise<number> {
    const deleted = await deleteKeysOf(this.redis, kappaPrefix(this.prefix, rebuildId));
    await redisCall('kappa unregister', () => this.redis.zrem(kappaRebuildsKey(this.prefix), rebuildId));
    return deleted;
  }
}

/** Every key of a prefix (both patterns of keys.ts allKeyPatterns), by SCAN and UNLINK. */
export async function deleteKeysOf(redis: RedisClient, prefix: string): Promise<number> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  let deleted = 0;
  for (const node of nodes) {
    for (const pattern of allKeyPatterns(prefix)) {
      let cursor = '0';
      do {
        const [next, keys] = await redisCall('kappa scan', () => node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000));
        // One key per call on a cluster: the keys of one page live in many slots.
        if (keys.length > 0)
          deleted += redis instanceof Cluster ? (await Promise.all(keys.map((k) => redis.unlink(k)))).reduce((a, b) => a + b, 0) : await node.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  }
  return deleted;
}
