/**
 * Sustained speed-layer throughput: N events already in a topic, K speed-layer processes
 * (`lambda-arch speed`, the CLI role users run) started on a fresh key prefix
 * and consumer group, and the time from the first applied batch until every offset is applied,
 * read from Redis like the status page reads it (RedisSpeedViewStore.status()).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { retentionPolicy } from '../../shared/speed/retention.js';
import { RedisSpeedViewStore } from '../../adapters/redis/speed-view-store.js';
import { loadConfig } from '../../platform/config.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { benchName, deleteGroups, deleteKeys } from '../lib/bench-context.js';
import { cpuPerEvent, cpuSnapshot, type CpuSnapshot } from '../lib/cpu.js';
import { repoRoot } from '../lib/services.js';

export interface SpeedRunResult {
  eventsPerSec: number;
  /** from spawning the processes to the first applied batch (process start, group join, seek) */
  startupMs: number;
  /** from the first applied batch to the last */
  applyMs: number;
  /** CPU microseconds per applied event in that window: the speed processes, Redis, the Kafka broker */
  cpuUsPerEvent: CpuSnapshot;
  /** Redis memory of the speed layout after the run (MEMORY USAGE of every key of the prefix) */
  memory: SpeedMemory;
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
  const child = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', 'cli/main.ts', 'speed'], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', out, out] });
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
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 3 });
  const store = new RedisSpeedViewStore(redis, { prefix, views: defaultViewSet(), retention: retentionPolicy(config) });
  const spawnedAt = performance.now();
  const children = Array.from({ length: opts.instances }, (_, i) => spawnSpeed(env, join(opts.logDir, `${prefix}-${i}.log`)));
  try {
    let firstAt: number | null = null;
    let firstApplied = 0;
    let cpuAtFirst: CpuSnapshot | null = null;
    const pids = children.map((c) => c.pid);
    for (;;) {
      const applied = await appliedOffsets(store);
      const now = performance.now();
      if (firstAt === null && applied > 0) {
        firstAt = now;
        firstApplied = applied;
        cpuAtFirst = await cpuSnapshot(pids, redis);
      }
      if (applied >= opts.total && firstAt !== null) {
        const cpuAtEnd = await cpuSnapshot(pids, redis);
        const applyMs = Math.max(1, now - firstAt);
        const events = applied - firstApplied;
        return {
          eventsPerSec: events / (applyMs / 1000),
          startupMs: firstAt - spawnedAt,
          applyMs,
          cpuUsPerEvent: cpuPerEvent(cpuAtFirst as CpuSnapshot, cpuAtEnd, events),
          memory: await speedMemory(redis, prefix),
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
