/**
 * One measurement's own world: a unique topic, Redis key prefix and consumer groups, a temp data
 * folder, and a Config built from them; `cleanup()` deletes the topics, the consumer groups, every
 * key of the prefix and the folder, so a bench leaves nothing behind on services other people use.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { clusterNodes, isClusterUrl } from '../../adapters/redis/client.js';
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

/**
 * SCAN + UNLINK of every key of the prefix (never KEYS on a shared server). On a Redis Cluster every
 * master is scanned and keys are unlinked one by one through the cluster (a multi-key UNLINK must
 * stay in one slot).
 */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<number> {
  const cluster = isClusterUrl(redisUrl) ? new Cluster(clusterNodes(redisUrl), { redisOptions: { maxRetriesPerRequest: 3 } }) : null;
  const redis = cluster ?? new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  if (cluster === null) await redis.connect();
  let deleted = 0;
  try {
    const nodes = cluster === null ? [redis as Redis] : await mastersOf(cluster);
    for (const node of nodes) {
      for (const pattern of allKeyPatterns(prefix)) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
          if (keys.length > 0)
            deleted += cluster === null ? await node.unlink(...keys) : (await Promise.all(keys.map((k) => cluster.unlink(k)))).reduce((a, b) => a + b, 0);
          cursor = next;
        } while (cursor !== '0');
      }
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** The cluster's masters, once it has told the client its slots. */
async function mastersOf(cluster: Cluster): Promise<Redis[]> {
  await new Promise<void>((resolve, reject) => {
    if (cluster.status === 'ready') return resolve();
    cluster.once('ready', () => resolve());
    cluster.once('error', reject);
  });
  return cluster.nodes('master');
}
