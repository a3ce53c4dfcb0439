/**
 * `lambda-arch lab <experiment>`: the teaching lab from a terminal (issue 20). Each experiment
 * prints what it will do and why, runs against a running service through its public HTTP API
 * (lab/), and prints the result the drift report or the series gives, for teaching without a
 * browser.
 */
import { LambdaError } from '../../shared/errors.js';
import { httpLabApi } from '../../lab/lab-api.js';
import { LATE_EXPLANATION, lateArrivals } from '../../lab/experiments/late-arrivals.js';
import { BATCH_NOW_EXPLANATION, batchNow } from '../../lab/experiments/batch-now.js';
import { DUPLICATES_EXPLANATION, duplicates } from '../../lab/experiments/duplicates.js';
import { num, type Command } from '../args.js';

const EXPERIMENTS = ['late', 'duplicates', 'batch-now'] as const;

export const labCommand: Command = {
  name: 'lab',
  usage: `lab ${EXPERIMENTS.join('|')} [--url URL] [--count N] [--admin-token T] [--json]`,
  summary: 'Teaching experiments against a running service: late arrivals and their exact drift cause; duplicates and the speed dedupe; a batch run now and the buckets it takes over from the speed layer.',
  options: {
    url: { type: 'string' },
    count: { type: 'string' },
    'admin-token': { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    url: 'the serving layer (default http://127.0.0.1:$LAMBDA_HTTP_PORT, port 8080)',
    count: 'late, duplicates: how many events to send (default 25)',
    'admin-token': 'batch-now: the admin token (default $LAMBDA_ADMIN_TOKEN)',
    json: 'print the result as one JSON line (for scripts and tests)',
  },
  async run({ values, positionals, env }) {
    const which = positionals[0];
    if (!EXPERIMENTS.includes(which as (typeof EXPERIMENTS)[number])) {
      throw new LambdaError('VALIDATION', `lab: expected one of ${EXPERIMENTS.join(', ')}, got ${JSON.stringify(which ?? '')}`);
    }
    const url = typeof values.url === 'string' ? values.url : `http://127.0.0.1:${env.LAMBDA_HTTP_PORT ?? '8080'}`;
    const token = typeof values['admin-token'] === 'string' ? values['admin-token'] : env.LAMBDA_ADMIN_TOKEN;
    const api = httpLabApi(url, token);
    const say = (line: string) => process.stderr.write(`${line}\n`);
    const count = num(values, 'count', 25, 1, 100_000);
    let result: Awaited<ReturnType<typeof lateArrivals>> | Awaited<ReturnType<typeof duplicates>> | Awaited<ReturnType<typeof batchNow>>;
    if (which === 'late') {
      say(LATE_EXPLANATION);
      result = await lateArrivals(api, { count, log: say });
    } else if (which === 'duplicates') {
      say(DUPLICATES_EXPLANATION);
      result = await duplicates(api, { count, log: say });
    } else {
      say(BATCH_NOW_EXPLANATION);
      result = await batchNow(api, { now: Date.now(), log: say });
    }
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else if ('dedupe' in result) {
      process.stdout.write(
        `sent ${result.sent} events and ${result.sent} copies for ${new Date(result.bucket).toISOString()}, speed dedupe ${result.dedupe ? 'on' : 'off'}:\n` +
          `  copies skipped / applied by the speed layer: ${result.skipped} / ${result.applied}\n` +
          `  drift report: late_arrivals +${result.lateAdded}, duplicates +${result.duplicatesAdded}, unexplained ${result.unexplainedAfter}\n`,
      );
    } else if ('sent' in result) {
      process.stdout.write(
        `sent ${result.sent} late events for ${new Date(result.bucket).toISOString()} (run ${result.runId}):\n` +
          `  late_arrivals in the drift report: ${result.lateBefore} -> ${result.lateAfter}\n` +
          `  count difference speed - batch:    ${result.countDiffBefore} -> ${result.countDiffAfter}\n` +
          `  unexplained:                       ${result.unexplainedAfter}\n`,
      );
    } else {
      const w = (x: number | null) => (x === null ? '(none)' : new Date(x).toISOString());
      process.stdout.write(
        `batch run published in ${(result.tookMs / 1000).toFixed(1)} s: W ${w(result.before.watermark)} -> ${w(result.after.watermark)}\n` +
          `  minute buckets of the last 2 hours from the batch run: ${result.before.batchBuckets} -> ${result.after.batchBuckets} (${result.flipped} flipped from speed)\n`,
      );
    }
  },
};
