/**
 * The replica wait on the local Redis Cluster (adapters/redis/replication.ts): writes on the
 * partition state's own master need no WAIT, writes on other masters get one WAIT per master (not
 * per key), and a master whose replica does not acknowledge (the replica stopped with SIGSTOP)
 * fails the confirmation with a retriable error instead of letting the write count. The failover
 * test (cluster-redis-failover) shows what it is for.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { createRedis } from '../../adapters/redis/client.js';
import { ReplicaConfirm, keySlot } from '../../adapters/redis/replication.js';
import { silentLogger } from '../../platform/logger.js';
import { faultSkipReason, readPid, redisNodePidFile } from '../support/cluster-faults.js';
import { uniqueName } from '../support/names.js';

const skip = faultSkipReason();
if (skip) console.warn(`redis-replica-confirm.test.ts skipped: ${skip}`);

describe.skipIf(skip !== null)(`replica confirmation on the Redis Cluster${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let redis: Cluster;
  const prefix = uniqueName('confirm');
  const written: string[] = [];

  beforeAll(async () => {
    redis = createRedis(inject('services').redisClusterUrl, silentLogger(), 'replica-confirm-test') as Cluster;
    await redis.ping();
  });
  afterAll(async () => {
    await Promise.all(written.map((k) => redis.del(k)));
    redis.disconnect();
  });

  /** A key of `prefix` whose slot the master `master` serves, and that master's replica. */
  function keyOn(predicate: (master: string) => boolean): { key: string; master: string; replica: string | undefined } {
    for (let i = 0; i < 10_000; i++) {
      const key = `{${prefix}:${i}}:k`;
      const [master, replica] = redis.slots[keySlot(key)] ?? [];
      if (master !== undefined && predicate(master)) return { key, master, replica };
    }
    throw new Error('no such key');
  }

  it("waits once per other master, never for the anchor's own, and refuses when no replica acknowledges", async () => {
    const anchor = keyOn(() => true);
    const same = keyOn((m) => m === anchor.master);
    const others = [keyOn((m) => m !== anchor.master)];
    others.push(keyOn((m) => m !== anchor.master && m !== others[0]!.master));
    const twoOnOne = keyOn((m) => m === others[0]!.master);
    for (const k of [same, ...others, twoOnOne]) {
      await redis.set(k.key, 'x');
      written.push(k.key);
    }
    const confirm = new ReplicaConfirm(redis, 2_000);
    await confirm.confirm(anchor.key, [same.key]);
    expect(confirm.waits, "a write on the state's own master is lost only with the state").toBe(0);
    await confirm.confirm(anchor.key, [same.key, ...others.map((o) => o.key), twoOnOne.key]);
    expect(confirm.waits, 'one WAIT per other master').toBe(2);
    await expect(new ReplicaConfirm(redis, 0).confirm(anchor.key, [others[0]!.key])).resolves.toBeUndefined();

    // The fault: the replica of one of those masters stops reading; a write there is not confirmed.
    const target = others[0]!;
    expect(target.replica, 'the slot table lists a replica').toBeDefined();
    const replicaPid = readPid(redisNodePidFile(Number(target.replica!.split(':')[1])));
    const short = new ReplicaConfirm(redis, 300);
    process.kill(replicaPid, 'SIGSTOP');
    try {
      await redis.set(target.key, 'y');
      await expect(short.confirm(anchor.key, [target.key])).rejects.toMatchObject({ code: 'DEPENDENCY_DOWN', retriable: true });
    } finally {
      process.kill(replicaPid, 'SIGCONT');
    }
    await expect(short.confirm(anchor.key, [target.key])).resolves.toBeUndefined();
  });
});
