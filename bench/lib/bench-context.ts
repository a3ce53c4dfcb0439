/**
 * One measurement's own world: a unique topic, Redis key prefix and consumer groups, a temp data
 * folder, and a Config built from them; `cleanup()` deletes the topics, the consumer groups, every
 * key of the prefix and the folder, so a bench leaves nothing behind on services other people use.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig, type Config } from '../../platform/config.js';
import { allKeyPatterns } from '../../adapters/redis/keys.js';
import type { BenchServices } from './services.js';

export interface BenchContext {
  config: Config;
  dataDir: string;
  /** the environment the Config was built from (for child processes) */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export function benchName(what: string): string {
  return `bench-${what}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function benchContext(services: BenchServices, what: string, overrides: Record<string, string> = {}): BenchContext {
  const dataDir = mkdtempSync(join(tmpdir(), 'lambda-bench-'));
  const name = benchName(what);
  const env: Record<string, string> = {
    KAFKA_BROKERS: services.kafkaBrokers.join(','),
    REDIS_URL: services.redisUrl,
    LAMBDA_TOPIC: name,
    LAMBDA_KEY_PREFIX: name.slice(0, 40),
    LAMBDA_DATA_DIR: dataDir,
    LAMBDA_LOG_LEVEL: 'warn',
    // Every bucket of a bench stream stays in the speed retention; the whole fresh topic is read.
    LAMBDA_BATCH_CRON: '0 0 * * *',
    LAMBDA_SPEED_COVER_FROM: 'earliest',
    LAMBDA_KAFKA_SESSION_TIMEOUT_MS: '10000',
    ...overrides,
  };
  const config = loadConfig(env, process.cwd());
  return {
    config,
    dataDir,
    env,
    cleanup: async () => {
      await deleteTopics(services, [config.kafka.topic, config.kafka.dlqTopic]);
      await deleteGroups(config.kafka.brokers, [config.speed.groupId, config.archiver.groupId]);
      await deleteKeys(services.redisUrl, config.redis.keyPrefix);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function benchKafka(services: BenchServices, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING });
}

async function deleteTopics(services: BenchServices, topics: string[]): Promise<void> {
  const admin = benchKafka(services, 'lambda-bench-cleanup').admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const mine = topics.filter((t) => existing.has(t));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

/** Consumer groups a bench created (their offsets would otherwise linger on a shared broker). */
export async function deleteGroups(brokers: readonly string[], groupIds: string[]): Promise<void> {
  const admin = new Kafka({ clientId: 'lambda-bench-cleanup', brokers: [...brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.deleteGroups(groupIds).catch(() => undefined); // a group that never committed does not exist
  } finally {
    await admin.disconnect();
  }
}

/** SCAN + UNLINK of every key of the prefix (never KEYS on a shared server). */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  await redis.connect();
  let deleted = 0;
  try {
    for (const pattern of allKeyPatterns(prefix)) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
        if (keys.length > 0) deleted += await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}
