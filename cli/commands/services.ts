/** `lambda-arch services up|down|status [--cluster]`: the local services (scripts/services.sh). */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LambdaError } from '../../shared/errors.js';
import type { Command } from '../args.js';

const script = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));

export const servicesCommand: Command = {
  name: 'services',
  usage: 'services up|down|status [--cluster] [kafka] [redis] [s3] [redis-cluster] [kafka-cluster] [spark-standalone]',
  summary:
    'Start, stop or show the local services: a real Kafka broker (KRaft, jars from Maven Central), Redis with AOF, and S3Proxy (S3-compatible); with --cluster, three Kafka brokers (ports 9192-9194) and a Redis Cluster of three masters with one replica each (ports 7101-7106); spark-standalone: a Spark master (spark://127.0.0.1:7177) and one worker for LAMBDA_SPARK_MASTER.',
  options: { cluster: { type: 'boolean' } },
  optionHelp: { cluster: 'the multi-node topology: the Kafka cluster and the Redis Cluster (README, "Running on more than one machine")' },
  async run({ values, positionals }) {
    const action = positionals[0];
    if (!action || !['up', 'down', 'status'].includes(action)) {
      throw new LambdaError('VALIDATION', `services: expected up, down or status, got ${JSON.stringify(action ?? '')}`);
    }
    // Service names (none: all of them) are checked by the script, which exits 2 on an unknown one;
    // `cluster` is its name for both clusters.
    const names = [...positionals.slice(1), ...(values.cluster ? ['cluster'] : [])];
    const r = spawnSync('bash', [script, action, ...names], { stdio: 'inherit' });
    return r.status ?? 1;
  },
};
