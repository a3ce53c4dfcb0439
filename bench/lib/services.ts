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
  const vars = Object.fromEntries(up.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  if (!vars.KAFKA_BROKERS || !vars.REDIS_URL) throw new Error(`scripts/services.sh up printed no endpoints:\n${up.stdout}`);
  return { kafkaBrokers: vars.KAFKA_BROKERS.split(','), redisUrl: vars.REDIS_URL, source: 'local' };
}
