/**
 * On a Redis Cluster, the speed layer's writes outside a partition's own slot (HyperLogLog adds,
 * dedupe claims) confirmed by a replica before the partition's apply commits its offset
 * (docs/design-decisions.md, "Redis Cluster": a failover after asynchronous replication).
 *
 * Why: a master failover loses the writes its replica had not received yet. A partition's state
 * and counters share one slot, so they go back together and the speed layer replays from Kafka.
 * An HLL or claim key of another slot on *another* master is not behind that offset: if the
 * master holding it fails over, its lost adds would never be replayed (distinct values short,
 * claims forgotten). So after writing them, and before the apply, `WAIT 1 <timeout>` is sent on
 * the connection that wrote them, once per master (not per key); a write on the partition state's
 * own master is skipped (lost only together with the state, and then replayed).
 *
 * WAIT must go on the connection that wrote: the cluster client keeps one connection per node and
 * routes each command by its slot through it, so the node instance the slot table names is that
 * connection. A node with no replica in the slot table (one whose replica failed, or after a
 * failover until the old master rejoins) is not waited for: no replica can be promoted over it.
 */
import { Cluster, type Redis } from 'ioredis';
import { LambdaError } from '../../shared/errors.js';
import type { RedisClient } from './scripts.js';

const SLOTS = 16384;

/** CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The hash slot of a key, by Redis Cluster's rule: the `{tag}` if it has a non-empty one, else the whole key. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(key, 'utf8')) % SLOTS;
}

export class ReplicaConfirm {
  /** WAIT commands sent (one per master per confirm), for the cost figures */
  waits = 0;

  /** `timeoutMs` 0: never waits (a single Redis, or the operator chose speed over a failover's losses) */
  constructor(
    private readonly redis: RedisClient,
    private readonly timeoutMs: number,
  ) {}

  /**
   * After writing `keys` (any slots), resolves once every master holding one of them, other than
   * the master of `anchorKey` (the partition state) and masters without a replica, has passed its
   * writes to a replica; throws a retriable DEPENDENCY_DOWN when one did not within the timeout
   * (the caller retries the whole step: the writes are idempotent).
   */
  async confirm(anchorKey: string, keys: readonly string[]): Promise<void> {
    if (!(this.redis instanceof Cluster) || this.timeoutMs <= 0 || keys.length === 0) return;
    const slots = this.redis.slots;
    const anchor = slots[keySlot(anchorKey)]?.[0];
    const masters = new Set<string>();
    for (const key of keys) {
      const owners = slots[keySlot(key)];
      const master = owners?.[0];
      if (master === undefined || master === anchor || owners!.length < 2) continue;
      masters.add(master);
    }
    if (masters.size === 0) return;
    const nodes = this.redis.nodes('all');
    await Promise.all(
      [...masters].map(async (nodeKey) => {
        const node = nodes.find((n) => nodeKeyOf(n) === nodeKey);
        if (node === undefined) throw notConfirmed(nodeKey, 'the client has no connection to it');
        this.waits++;
        const acked = Number(await node.call('WAIT', '1', String(this.timeoutMs)));
        if (!(acked >= 1)) throw notConfirmed(nodeKey, `no replica acknowledged within ${this.timeoutMs} ms`);
      }),
    );
  }
}

function nodeKeyOf(node: Redis): string {
  return `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`;
}

function notConfirmed(nodeKey: string, why: string): LambdaError {
  return new LambdaError('DEPENDENCY_DOWN', `Redis master ${nodeKey} did not confirm the speed layer's writes on a replica: ${why}`, { retriable: true });
}
