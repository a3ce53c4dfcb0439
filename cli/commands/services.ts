/** `lambda-arch services up|down|status`: the local Kafka and Redis (scripts/services.sh). */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LambdaError } from '../../shared/errors.js';
import type { Command } from '../args.js';

const script = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));

export const servicesCommand: Command = {
  name: 'services',
  usage: 'services up|down|status [kafka] [redis] [s3]',
  summary: 'Start, stop or show the local services: a real Kafka broker (KRaft, jars from Maven Central), Redis with AOF, and S3Proxy (S3-compatible).',
  options: {},
  optionHelp: {},
  async run({ positionals }) {
    const action = positionals[0];
    if (!action || !['up', 'down', 'status'].includes(action)) {
      throw new LambdaError('VALIDATION', `services: expected up, down or status, got ${JSON.stringify(action ?? '')}`);
    }
    // Service names (none: all of them) are checked by the script, which exits 2 on an unknown one.
    const r = spawnSync('bash', [script, action, ...positionals.slice(1)], { stdio: 'inherit' });
    return r.status ?? 1;
  },
};
