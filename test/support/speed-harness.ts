/**
 * Helpers for the speed-layer tests: a test Config, the speed layer as a child process (so a test
 * can SIGKILL it), waiting until Redis holds every offset Kafka has, reading every speed view back
 * and comparing it with the reference fold, and cleaning up topics and keys.
 */
import type { ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { closeSync, openSync } from 'node:fs';
import type { Kafka } from 'kafkajs';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../../adapters/redis/scripts.js';
import { endOffsets } from '../../adapters/kafka/topics.js';
import { allKeyPatterns, partitionStateKey } from '../../adapters/redis/keys.js';
import { retentionPolicy } from '../../shared/speed/retention.js';
import { RedisSpeedViewStore } from '../../adapters/redis/speed-view-store.js';
import type { Config } from '../../platform/config.js';
import { groupKey } from '../../shared/aggregate/aggregate.js';
import { referenceFold, type FinalValues } from '../../shared/reference-fold.js';
import { parseEventLine } from '../../shared/events.js';
import { floorTo } from '../../shared/time.js';
import { project } from '../../shared/views/project.js';
import type { ViewSet } from '../../shared/views/definition.js';
import { testContext, type TestContext } from './context.js';
import { waitUntil } from './wait.js';
import { spawnCli } from './cli-child.js';

/**
 * A daily batch cron keeps every bucket of the test streams (event times within the last hours)
 * well inside the speed retention; 'earliest' covers the whole fresh topic; a 6 s session lets
 * the group move on quickly from a SIGKILLed member.
 */
export function speedContext(overrides: Record<string, string> = {}): TestContext {
  return testContext({
    LAMBDA_BATCH_CRON: '0 0 * * *',
    LAMBDA_SPEED_COVER_FROM: 'earliest',
    // The streams' event times lie up to hours back: a 2-day dedupe window checks every copy (the
    // 1-hour default would apply copies of 2-hour-old events unchecked, as documented).
    LAMBDA_SPEED_DEDUPE_TTL_S: '172800',
    LAMBDA_KAFKA_SESSION_TIMEOUT_MS: '6000',
    ...overrides,
  });
}

export function speedEnv(config: Config): Record<string, string> {
  return {
    KAFKA_BROKERS: config.kafka.brokers.join(','),
    REDIS_URL: config.redis.url,
    LAMBDA_TOPIC: config.kafka.topic,
    LAMBDA_TOPIC_PARTITIONS: String(config.kafka.partitions),
    LAMBDA_KEY_PREFIX: config.redis.keyPrefix,
    LAMBDA_DATA_DIR: config.dataDir,
    LAMBDA_BATCH_CRON: config.batch.cron,
    LAMBDA_ALLOWED_LATENESS_MS: String(config.allowedLatenessMs),
    LAMBDA_KAFKA_SESSION_TIMEOUT_MS: String(config.kafka.sessionTimeoutMs),
    LAMBDA_SPEED_DEDUPE: String(config.speed.dedupe),
    LAMBDA_SPEED_DEDUPE_TTL_S: String(config.speed.dedupeWindowMs / 1000),
    LAMBDA_SPEED_COVER_FROM: config.speed.coverFrom,
    LAMBDA_SPEED_APPLY_MAX_EVENTS: String(config.speed.applyMaxEvents),
    LAMBDA_SPEED_REPLICA_WAIT_MS: String(config.speed.replicaWaitMs),
    LAMBDA_RETRY_BASE_MS: String(config.retry.baseMs),
    LAMBDA_RETRY_MAX_MS: String(config.retry.maxMs),
    LAMBDA_SHUTDOWN_GRACE_MS: '20000',
    LAMBDA_LOG_LEVEL: 'info',
  };
}

export interface SpeedProcess {
  child: ChildProcess;
  /** resolves with the exit code (null when killed by a signal) */
  exited: Promise<number | null>;
}

/** Starts `lambda-arch speed` (the real CLI, Node's own pid, so SIGKILL hits it); output goes to `logPath`. */
export function spawnSpeed(config: Config, logPath: string): SpeedProcess {
  const out = openSync(logPath, 'a');
  const child = spawnCli(['speed'], speedEnv(config), ['ignore', out, out]);
  closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

export function viewStore(redis: RedisClient, config: Config, views: ViewSet): RedisSpeedViewStore {
  return new RedisSpeedViewStore(redis, { prefix: config.redis.keyPrefix, views, retention: retentionPolicy(config) });
}

/** Stored next offset per partition (absent = not initialised). */
export async function storedOffsets(redis: RedisClient, prefix: string, partitions: number): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (let p = 0; p < partitions; p++) {
    const next = await redis.hget(partitionStateKey(prefix, p), 'next');
    if (next !== null) out.set(p, Number(next));
  }
  return out;
}

export async function appliedCount(redis: RedisClient, prefix: string, partitions: number): Promise<number> {
  let n = 0;
  for (const v of (await storedOffsets(redis, prefix, partitions)).values()) n += v;
  return n;
}

/** Waits until Redis holds, for every partition, an offset at the end of what Kafka holds now. */
export async function waitCaughtUp(kafka: Kafka, redis: RedisClient, config: Config, timeoutMs = 90_000): Promise<void> {
  const ends = await endOffsets(kafka, config.kafka.topic);
  await waitUntil(
    () => storedOffsets(redis, config.redis.keyPrefix, ends.size),
    (stored) => [...ends].every(([p, end]) => (stored.get(p) ?? -1) >= end),
    { what: `speed layer to apply every offset of ${config.kafka.topic} (${JSON.stringify([...ends])})`, timeoutMs, intervalMs: 200 },
  );
}

/** Every group of every view at every granularity, read through the serving-side store. */
export async function readAllViews(store: RedisSpeedViewStore, views: ViewSet): Promise<Map<string, FinalValues & { _late: number; _dups: number }>> {
  const out = new Map<string, FinalValues & { _late: number; _dups: number }>();
  for (const view of views.views) {
    for (const g of view.granularities) {
      for (const row of await store.seriesWithCounters({ view: view.name, granularity: g, from: 0, to: Date.now() + 86_400_000 })) {
        out.set(groupKey(view.name, g, row.bucketStart, row.dims), { ...row.values, _late: row.late, _dups: row.duplicates });
      }
    }
  }
  return out;
}

/**
 * Differences between speed views and the reference: counts, sums, min and max exactly; distinct
 * within 3% + 1 (Redis HLL's standard error is 0.81%). Empty when they agree.
 */
export function diffFromReference(actual: Map<string, FinalValues>, expected: Map<string, FinalValues>, views: ViewSet): string[] {
  const problems: string[] = [];
  for (const [key, want] of expected) {
    const got = actual.get(key);
    if (got === undefined) {
      problems.push(`missing ${key}`);
      continue;
    }
    const [viewName] = JSON.parse(key) as [string];
    const view = views.byName[viewName];
    for (const [name, w] of Object.entries(want)) {
      const g = got[name];
      const distinct = view?.measures[name]?.type === 'distinct';
      const ok = distinct && typeof w === 'number' && typeof g === 'number' ? Math.abs(g - w) <= 0.03 * w + 1 : g === w;
      if (!ok) problems.push(`${key} ${name}: speed ${String(g)}, reference ${String(w)}`);
    }
  }
  for (const key of actual.keys()) if (!expected.has(key)) problems.push(`unexpected ${key}`);
  return problems;
}

/** The speed views equal the reference fold of these event lines (diffFromReference finds nothing). */
export function expectEqualsReference(actual: Map<string, FinalValues>, lines: readonly string[], views: ViewSet): void {
  expect(diffFromReference(actual, referenceFold(lines, views), views)).toEqual([]);
}

/**
 * Deletes every key of the test's prefix (SCAN, never KEYS on a shared server). On a Redis Cluster
 * every node the client knows is scanned (its view of which are masters can lag behind the
 * cluster's), and keys are deleted one by one through the cluster (a multi-key DEL must stay in one slot).
 */
export async function deletePrefix(redis: RedisClient, prefix: string): Promise<void> {
  const nodes = redis instanceof Cluster ? redis.nodes('all') : [redis];
  for (const node of nodes) {
    for (const pattern of allKeyPatterns(prefix)) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        if (keys.length > 0) {
          if (redis instanceof Cluster) await Promise.all(keys.map((k) => redis.del(k)));
          else await node.del(...keys);
        }
        cursor = next;
      } while (cursor !== '0');
    }
  }
}

/**
 * The truth with speed dedupe off: every valid record counts, so each repeat of an id is given an
 * id of its own for the reference fold; and per group, how many repeats the speed layer must count.
 */
export function undedupedTruth(values: readonly string[], views: ViewSet): { lines: string[]; dupsPerGroup: Map<string, number> } {
  const seen = new Set<string>();
  const dupsPerGroup = new Map<string, number>();
  const lines = values.map((value, i) => {
    const parsed = parseEventLine(value, views);
    if (!parsed.ok) return value;
    if (!seen.has(parsed.event.id)) {
      seen.add(parsed.event.id);
      return value;
    }
    for (const view of views.views) {
      const p = project(view, parsed.event);
      if (p === null) continue;
      for (const g of view.granularities) {
        const key = groupKey(view.name, g, floorTo(parsed.event.ts, g), p.dims);
        dupsPerGroup.set(key, (dupsPerGroup.get(key) ?? 0) + 1);
      }
    }
    return JSON.stringify({ ...parsed.event.body, id: `${parsed.event.id}#repeat${i}` });
  });
  return { lines, dupsPerGroup };
}
