/**
 * Finds the services the integration tests run against, in this order:
 *  1. KAFKA_BROKERS and REDIS_URL from the environment (a user's own services);
 *  2. a Docker engine that answers: Kafka and Redis containers from testcontainers;
 *  3. the project's own local services (scripts/services.sh: Kafka from Maven jars, redis-server).
 * The endpoints are handed to tests with `inject('services')`. S3 (for the S3 master dataset) is
 * S3_ENDPOINT (+ S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY) when set, else the project's S3Proxy
 * (scripts/s3.sh, started by services.sh in case 3 and on its own in cases 1 and 2).
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

export interface TestServices {
  kafkaBrokers: string[];
  redisUrl: string;
  source: 'environment' | 'testcontainers' | 'local';
  /** an S3-compatible endpoint (path-style) and keys it accepts; tests create their own buckets */
  s3Endpoint: string;
  s3AccessKeyId: string;
  s3SecretAccessKey: string;
  /** a Redis Cluster (3 masters, 1 replica each) as a redis-cluster:// URL, for the cluster tests */
  redisClusterUrl: string;
  /**
   * KAFKA_CLUSTER_BROKERS: three Kafka brokers (scripts/services.sh up kafka-cluster; scripts/test.sh
   * starts them and sets it). Empty when unset: the cluster tests skip and say so. Not started here:
   * three JVMs are too heavy to start for every single-file run on a shared 2-core machine.
   */
  kafkaClusterBrokers: string[];
  /** where the project's scripts keep the clusters' data and pid files (LAMBDA_DATA_DIR or data/): the fault tests kill by pid */
  scriptsDataDir: string;
}

type S3Services = Pick<TestServices, 's3Endpoint' | 's3AccessKeyId' | 's3SecretAccessKey'>;

/**
 * REDIS_CLUSTER_URL from the environment, else the project's own local cluster (started if needed);
 * and the Kafka cluster's brokers from KAFKA_CLUSTER_BROKERS.
 */
function redisCluster(env: NodeJS.ProcessEnv): { redisClusterUrl: string; kafkaClusterBrokers: string[]; scriptsDataDir: string } {
  const kafkaClusterBrokers = (env.KAFKA_CLUSTER_BROKERS ?? '').split(',').filter(Boolean);
  const scriptsDataDir = env.LAMBDA_DATA_DIR ? resolve(root, env.LAMBDA_DATA_DIR) : join(root, 'data');
  if (env.REDIS_CLUSTER_URL) return { redisClusterUrl: env.REDIS_CLUSTER_URL, kafkaClusterBrokers, scriptsDataDir };
  const up = spawnSync('bash', ['scripts/services.sh', 'up', 'redis-cluster'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const url = up.status === 0 ? printedVars(up.stdout).REDIS_URL : undefined;
  if (!url) throw new Error(`scripts/services.sh up redis-cluster failed (exit ${up.status}):\n${up.stdout}`);
  return { redisClusterUrl: url, kafkaClusterBrokers, scriptsDataDir };
}

/** KEY=VALUE lines printed by the project's scripts. */
function printedVars(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function s3From(vars: Record<string, string | undefined>): S3Services | null {
  if (!vars.S3_ENDPOINT) return null;
  return { s3Endpoint: vars.S3_ENDPOINT, s3AccessKeyId: vars.S3_ACCESS_KEY_ID ?? 'lambda', s3SecretAccessKey: vars.S3_SECRET_ACCESS_KEY ?? 'lambda-secret' };
}

/** S3_ENDPOINT from the environment, else the project's own S3Proxy (started if needed). */
function s3Services(env: NodeJS.ProcessEnv): S3Services {
  const fromEnv = s3From(env);
  if (fromEnv) return fromEnv;
  const up = spawnSync('bash', ['scripts/s3.sh', 'up'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const local = up.status === 0 ? s3From(printedVars(up.stdout)) : null;
  if (!local) throw new Error(`scripts/s3.sh up failed (exit ${up.status}):\n${up.stdout}`);
  return local;
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: TestServices;
  }
}

const root = fileURLToPath(new URL('../..', import.meta.url));

function dockerAnswers(): boolean {
  const r = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5000, encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim().length > 0;
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const env = process.env;
  if (env.KAFKA_BROKERS && env.REDIS_URL) {
    project.provide('services', {
      kafkaBrokers: env.KAFKA_BROKERS.split(','),
      redisUrl: env.REDIS_URL,
      source: 'environment',
      ...s3Services(env),
      ...redisCluster(env),
    });
    return;
  }
  if (dockerAnswers()) {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const { RedisContainer } = await import('@testcontainers/redis');
    const kafka = await new KafkaContainer('apache/kafka:4.1.1').withKraft().start();
    const redis = await new RedisContainer('redis:7').start();
    project.provide('services', {
      kafkaBrokers: [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`],
      redisUrl: redis.getConnectionUrl(),
      source: 'testcontainers',
      ...s3Services(env),
      ...redisCluster(env),
    });
    return async () => {
      await kafka.stop();
      await redis.stop();
    };
  }
  const up = spawnSync('bash', ['scripts/services.sh', 'up'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (up.status !== 0) throw new Error(`scripts/services.sh up failed (exit ${up.status})`);
  const vars = Object.fromEntries(
    up.stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  if (!vars.KAFKA_BROKERS || !vars.REDIS_URL) throw new Error(`scripts/services.sh up printed no endpoints:\n${up.stdout}`);
  const s3 = s3From(env) ?? s3From(vars);
  if (!s3) throw new Error(`scripts/services.sh up printed no S3_ENDPOINT:\n${up.stdout}`);
  project.provide('services', { kafkaBrokers: vars.KAFKA_BROKERS.split(','), redisUrl: vars.REDIS_URL, source: 'local', ...s3, ...redisCluster(env) });
  // Local services stay up after the run (like a developer's database): a second run reuses them.
}
