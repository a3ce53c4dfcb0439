/**
 * Sustained speed-layer throughput: N events already in a topic, K speed-layer processes
 * (`lambda-arch speed`, the CLI role users run) started on a fresh key prefix
 * and consumer group, and the time from the first applied batch until every offset is applied,
 * read from Redis like the status page reads it (RedisSpeedViewStore.status()).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, type Redis } from 'ioredis';
import { createRedis, isClusterUrl } from '../../adapters/redis/client.js';
import type { RedisClient } from '../../adapters/redis/scripts.js';
import { silentLogger } from '../../platform/logger.js';
import { retentionPolicy } from '../../shared/speed/retention.js';
import { RedisSpeedViewStore } from '../../adapters/redis/speed-view-store.js';
import { loadConfig } from '../../platform/config.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { benchName, deleteGroups, deleteKeys } from '../lib/bench-context.js';
import { cpuPerEvent, cpuSnapshot, localKafkaClusterPids, localKafkaPid, type CpuSnapshot } from '../lib/cpu.js';
import { repoRoot } from '../lib/services.js';

export interface SpeedRunResult {
  eventsPerSec: number;
  /** from spawning the processes to the first applied batch (process start, group join, seek) */
  startupMs: number;
  /** from the first applied batch to the last */
  applyMs: number;
  /** CPU microseconds per applied event in that window: the speed processes, Redis, the Kafka broker */
  cpuUsPerEvent: CpuSnapshot;
  /** Redis memory of the speed layout after the run (MEMORY USAGE of every key of the prefix); null on a Redis Cluster */
  memory: SpeedMemory | null;
  /** on a Redis Cluster: commands the speed processes sent per 1000 applied events, and the WAITs among them */
  callsPer1000: { total: number; wait: number } | null;
}

/**
 * Commands clients sent to the cluster's masters (INFO commandstats): scripts (EVALSHA/EVAL), the
 * state reads (HMGET + GET) and WAIT. Commands a script runs inside Redis count in commandstats
 * too, so they are not summed; the bench's own status polls use other commands.
 */
async function clientCalls(redis: RedisClient): Promise<{ total: number; wait: number } | null> {
  if (!(redis instanceof Cluster)) return null;
  let total = 0;
  let wait = 0;
  for (const info of await Promise.all(redis.nodes('master').map((n) => n.info('commandstats')))) {
    for (const m of info.matchAll(/^cmdstat_(evalsha|eval|hmget|get|wait):calls=(\d+)/gm)) {
      total += Number(m[2]);
      if (m[1] === 'wait') wait += Number(m[2]);
    }
  }
  return { total, wait };
}

export interface SpeedMemory {
  /** ids remembered in the dedupe claims, and bytes per id (claim hashes' memory / ids) */
  rememberedIds: number;
  bytesPerId: number | null;
  /** (bucket, dims) groups of every view and granularity, and bytes per group (bucket hashes + HLLs) */
  groups: number;
  bytesPerGroup: number | null;
}

/** Scans the prefix and measures what the dedupe claims and the views take in Redis. */
export async function speedMemory(redis: Redis, prefix: string): Promise<SpeedMemory> {
  let claimBytes = 0;
  let ids = 0;
  let viewBytes = 0;
  let groups = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `{${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const bytes = Number(await redis.memory('USAGE', key, 'SAMPLES', 0)) || 0;
      if (key.startsWith(`{${prefix}:d:`)) {
        claimBytes += bytes;
        ids += await redis.hlen(key);
      } else if (key.includes('}:v:')) {
        viewBytes += bytes;
        // A group is one dims tuple of the bucket: fields are <dims>:<measure or counter>.
        groups += new Set((await redis.hkeys(key)).map((f) => f.slice(0, f.indexOf(':')))).size;
      } else if (key.startsWith(`{${prefix}:h:`)) viewBytes += bytes;
    }
  } while (cursor !== '0');
  return { rememberedIds: ids, bytesPerId: ids > 0 ? claimBytes / ids : null, groups, bytesPerGroup: groups > 0 ? viewBytes / groups : null };
}

export interface SpeedRunOptions {
  /** the topic context's environment (topic, partitions, services); a fresh prefix is added */
  env: Record<string, string>;
  total: number;
  instances: number;
  dedupe: boolean;
  logDir: string;
  timeoutMs: number;
}

export function spawnSpeed(env: Record<string, string>, logPath: string): ChildProcess {
  const out = openSync(logPath, 'a');
  const child = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', 'cli/main.ts', 'speed'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  return child;
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

/** Sum of the next offsets Redis holds: on a fresh topic, the records applied so far. */
export async function appliedOffsets(store: RedisSpeedViewStore): Promise<number> {
  const status = await store.status();
  return status.partitions.reduce((n, p) => n + p.offset, 0);
}

export async function speedRun(opts: SpeedRunOptions): Promise<SpeedRunResult> {
  const prefix = benchName('s').slice(0, 40);
  const env = { ...opts.env, LAMBDA_KEY_PREFIX: prefix, LAMBDA_SPEED_DEDUPE: String(opts.dedupe) };
  const config = loadConfig(env, repoRoot);
  // On a Redis Cluster: the cluster client, Redis CPU summed over every node (replicas apply the
  // same writes), the three local brokers' CPU; no memory figures (they scan one server).
  const cluster = isClusterUrl(config.redis.url);
  const redis: RedisClient = createRedis(config.redis.url, silentLogger(), 'lambda-bench');
  const kafkaPids = cluster ? localKafkaClusterPids() : [localKafkaPid()];
  const store = new RedisSpeedViewStore(redis, { prefix, views: defaultViewSet(), retention: retentionPolicy(config) });
  const spawnedAt = performance.now();
  const children = Array.from({ length: opts.instances }, (_, i) => spawnSpeed(env, join(opts.logDir, `${prefix}-${i}.log`)));
  try {
    let firstAt: number | null = null;
    let firstApplied = 0;
    let cpuAtFirst: CpuSnapshot | null = null;
    let callsAtFirst: { total: number; wait: number } | null = null;
    const pids = children.map((c) => c.pid);
    for (;;) {
      const applied = await appliedOffsets(store);
      const now = performance.now();
      if (firstAt === null && applied > 0) {
        firstAt = now;
        firstApplied = applied;
        cpuAtFirst = await cpuSnapshot(pids, redis, kafkaPids);
        callsAtFirst = await clientCalls(redis);
      }
      if (applied >= opts.total && firstAt !== null) {
        const cpuAtEnd = await cpuSnapshot(pids, redis, kafkaPids);
        const callsAtEnd = await clientCalls(redis);
        const applyMs = Math.max(1, now - firstAt);
        const events = applied - firstApplied;
        return {
          eventsPerSec: events / (applyMs / 1000),
          startupMs: firstAt - spawnedAt,
          applyMs,
          cpuUsPerEvent: cpuPerEvent(cpuAtFirst as CpuSnapshot, cpuAtEnd, events),
          memory: redis instanceof Cluster ? null : await speedMemory(redis, prefix),
          callsPer1000:
            callsAtFirst === null || callsAtEnd === null || events <= 0
              ? null
              : { total: ((callsAtEnd.total - callsAtFirst.total) * 1000) / events, wait: ((callsAtEnd.wait - callsAtFirst.wait) * 1000) / events },
        };
      }
      const dead = children.find((c) => c.exitCode !== null);
      if (dead) throw new Error(`a speed layer process exited (code ${dead.exitCode}); see ${opts.logDir}`);
      if (now - spawnedAt > opts.timeoutMs) throw new Error(`speed layer applied ${applied} of ${opts.total} records in ${opts.timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await Promise.all(children.map(stopChild));
    redis.disconnect();
    await deleteKeys(config.redis.url, prefix);
    await deleteGroups(config.kafka.brokers, [config.speed.groupId]);
  }
}
