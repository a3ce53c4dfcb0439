/**
 * Kafka and Redis for the bench, found like `npm test` finds them: KAFKA_BROKERS and REDIS_URL
 * from the environment when both are set, else the project's own local services
 * (`bash scripts/services.sh up`, idempotent: running services are reused and left running).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface BenchServices {
  kafkaBrokers: string[];
  redisUrl: string;
  source: 'environment' | 'local';
}

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export function findServices(env: NodeJS.ProcessEnv): BenchServices {
  if (env.KAFKA_BROKERS && env.REDIS_URL) return { kafkaBrokers: env.KAFKA_BROKERS.split(','), redisUrl: env.REDIS_URL, source: 'environment' };
  const up = spawnSync('bash', ['scripts/services.sh', 'up'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (up.status !== 0) throw new Error(`scripts/services.sh up failed (exit ${up.status})`);
  const vars = Object.fromEntries(
    up.stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  if (!vars.KAFKA_BROKERS || !vars.REDIS_URL) throw new Error(`scripts/services.sh up printed no endpoints:\n${up.stdout}`);
  return { kafkaBrokers: vars.KAFKA_BROKERS.split(','), redisUrl: vars.REDIS_URL, source: 'local' };
}

/** The cluster topology for the speed section's cluster rows, or why they are not measured. */
export type ClusterServices = BenchServices | { skipped: string };

/**
 * KAFKA_CLUSTER_BROKERS (three brokers) and REDIS_CLUSTER_URL (redis-cluster://...) from the
 * environment, as `npm test` takes them. The bench does not start the clusters itself: three
 * Kafka JVMs and six Redis nodes are too much to start unasked on a shared machine.
 */
export function findClusterServices(env: NodeJS.ProcessEnv): ClusterServices {
  const brokers = (env.KAFKA_CLUSTER_BROKERS ?? '').split(',').filter(Boolean);
  const redisUrl = env.REDIS_CLUSTER_URL ?? '';
  if (brokers.length >= 3 && redisUrl.startsWith('redis-cluster://')) return { kafkaBrokers: brokers, redisUrl, source: 'environment' };
  return {
    skipped:
      'KAFKA_CLUSTER_BROKERS (three brokers) and REDIS_CLUSTER_URL (redis-cluster://...) are not set: start the clusters with `bash scripts/services.sh up kafka-cluster` and `bash scripts/services.sh up redis-cluster` (or `lambda-arch services up --cluster`) and export the KAFKA_BROKERS and REDIS_URL they print under those names',
  };
}
