/**
 * `lambda-arch lab <experiment>`: the teaching lab from a terminal (issue 20). Each experiment
 * prints what it will do and why, runs against a running service through its public HTTP API
 * (lab/), and prints the result the drift report, the series or the status gives, for teaching
 * without a browser. `dedupe`, `pause`, `invalid` (and `duplicates --dedupe`) use the admin's
 * runtime tools (serving-layer/routes/speed-admin.ts) and need the token.
 */
import { LambdaError } from '../../shared/errors.js';
import { httpLabApi } from '../../lab/lab-api.js';
import { LATE_EXPLANATION, lateArrivals } from '../../lab/experiments/late-arrivals.js';
import { BATCH_NOW_EXPLANATION, batchNow } from '../../lab/experiments/batch-now.js';
import { DUPLICATES_EXPLANATION, DUPLICATES_OTHER_PARTITION_EXPLANATION, DUPLICATES_SWITCH_EXPLANATION, duplicates } from '../../lab/experiments/duplicates.js';
import { DEDUPE_EXPLANATION, switchDedupe, type DedupeResult, type DedupeSetting } from '../../lab/experiments/dedupe.js';
import { PAUSE_EXPLANATION, pauseResume, type PauseResult } from '../../lab/experiments/pause.js';
import { INVALID_EXPLANATION, INVALID_KINDS, invalidRecords, type InvalidKind, type InvalidResult } from '../../lab/experiments/invalid.js';
import { num, type Command } from '../args.js';

const EXPERIMENTS = ['late', 'duplicates', 'batch-now', 'dedupe', 'pause', 'invalid'] as const;
const DEDUPE_SETTINGS: readonly DedupeSetting[] = ['on', 'off', 'default'];

export const labCommand: Command = {
  name: 'lab',
  usage: `lab ${EXPERIMENTS.join('|')} [on|off|default] [--url URL] [--count N] [--dedupe on|off] [--kinds K,...] [--valid M] [--batch] [--admin-token T] [--json]`,
  summary:
    'Teaching experiments against a running service: late arrivals and their exact drift cause; duplicates and the speed dedupe; a batch run now and the buckets it takes over from the speed layer; ' +
    'the speed dedupe switched at runtime (dedupe on|off|default); the speed layer paused while events wait in Kafka, then caught up (pause); invalid records through the dead-letter topic (invalid).',
  options: {
    url: { type: 'string' },
    count: { type: 'string' },
    dedupe: { type: 'string' },
    copies: { type: 'string' },
    kinds: { type: 'string' },
    valid: { type: 'string' },
    batch: { type: 'boolean' },
    'admin-token': { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    url: 'the serving layer (default http://127.0.0.1:$LAMBDA_HTTP_PORT, port 8080)',
    count: 'late, duplicates, pause: how many events to send; invalid: how many of each kind (default 25; invalid 5)',
    dedupe: 'duplicates: switch the speed dedupe on or off for this run, then back (admin)',
    copies: 'duplicates: same-partition (default: keyed by id, beside the originals) or other-partition (originals on partition 0, copies on 1; admin)',
    kinds: `invalid: which kinds, comma-separated (default all: ${INVALID_KINDS.join(',')})`,
    valid: 'invalid: how many valid records to send among them (default 10)',
    batch: 'invalid: then run a batch and show its invalid counters (admin)',
    'admin-token': 'batch-now, dedupe, pause, invalid, duplicates --dedupe or --copies other-partition: the admin token (default $LAMBDA_ADMIN_TOKEN)',
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
    const count = num(values, 'count', which === 'invalid' ? 5 : 25, 1, 100_000);
    const onOff = (name: string, v: unknown): boolean | undefined => {
      if (v === undefined) return undefined;
      if (v === 'on' || v === 'off') return v === 'on';
      throw new LambdaError('VALIDATION', `--${name} must be on or off, got ${JSON.stringify(v)}`);
    };
    const dedupeFlag = onOff('dedupe', values.dedupe);
    const copies = values.copies;
    if (copies !== undefined && copies !== 'same-partition' && copies !== 'other-partition') {
      throw new LambdaError('VALIDATION', `--copies must be same-partition or other-partition, got ${JSON.stringify(copies)}`);
    }
    if (which === 'dedupe' || which === 'pause' || which === 'invalid') {
      const out = await runtimeExperiment(which, api, { positionals, values, count, say });
      if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`);
      else process.stdout.write(describeRuntime(out));
      return;
    }
    let result: Awaited<ReturnType<typeof lateArrivals>> | Awaited<ReturnType<typeof duplicates>> | Awaited<ReturnType<typeof batchNow>>;
    if (which === 'late') {
      say(LATE_EXPLANATION);
      result = await lateArrivals(api, { count, log: say });
    } else if (which === 'duplicates') {
      say(DUPLICATES_EXPLANATION);
      if (copies === 'other-partition') say(DUPLICATES_OTHER_PARTITION_EXPLANATION);
      if (dedupeFlag !== undefined) say(DUPLICATES_SWITCH_EXPLANATION);
      result = await duplicates(api, {
        count,
        ...(dedupeFlag === undefined ? {} : { dedupe: dedupeFlag }),
        ...(copies === undefined ? {} : { copies }),
        log: say,
      });
    } else {
      say(BATCH_NOW_EXPLANATION);
      result = await batchNow(api, { now: Date.now(), log: say });
    }
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else if ('dedupe' in result) {
      process.stdout.write(
        `sent ${result.sent} events and ${result.sent} copies (${result.copies === 'same-partition' ? 'beside them' : 'on another partition'}) for ${new Date(result.bucket).toISOString()}, speed dedupe ${result.dedupe ? 'on' : 'off'}` +
          `${result.switched ? ` (switched for this run, then back to ${result.switched.restoredTo === null ? 'LAMBDA_SPEED_DEDUPE' : result.switched.restoredTo ? 'on' : 'off'})` : ''}:\n` +
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

type RuntimeResult =
  { experiment: 'dedupe'; result: DedupeResult } | { experiment: 'pause'; result: PauseResult } | { experiment: 'invalid'; result: InvalidResult };

/** The runtime experiments of issue 20 (admin): the dedupe switch, the pause, invalid records. */
async function runtimeExperiment(
  which: 'dedupe' | 'pause' | 'invalid',
  api: ReturnType<typeof httpLabApi>,
  o: { positionals: string[]; values: Record<string, string | boolean | undefined>; count: number; say: (line: string) => void },
): Promise<RuntimeResult['result']> {
  const { say } = o;
  if (which === 'dedupe') {
    const setting = o.positionals[1];
    if (!DEDUPE_SETTINGS.includes(setting as DedupeSetting)) {
      throw new LambdaError('VALIDATION', `lab dedupe: expected one of ${DEDUPE_SETTINGS.join(', ')}, got ${JSON.stringify(setting ?? '')}`);
    }
    say(DEDUPE_EXPLANATION);
    return switchDedupe(api, { setting: setting as DedupeSetting, log: say });
  }
  if (which === 'pause') {
    say(PAUSE_EXPLANATION);
    return pauseResume(api, { count: o.count, log: say });
  }
  const kinds =
    typeof o.values.kinds === 'string'
      ? o.values.kinds
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean)
      : [...INVALID_KINDS];
  const unknown = kinds.filter((k) => !INVALID_KINDS.includes(k as InvalidKind));
  if (unknown.length > 0 || kinds.length === 0) {
    throw new LambdaError('VALIDATION', `--kinds: expected some of ${INVALID_KINDS.join(', ')}, got ${JSON.stringify(o.values.kinds)}`);
  }
  say(INVALID_EXPLANATION);
  return invalidRecords(api, {
    count: o.count,
    kinds: kinds as InvalidKind[],
    valid: num(o.values, 'valid', 10, 0, 100_000),
    batch: o.values.batch === true,
    log: say,
  });
}

function describeRuntime(r: RuntimeResult['result']): string {
  const kv = (m: Record<string, number> | null) =>
    m === null
      ? '(not in this process)'
      : Object.entries(m)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || 'none';
  if ('setting' in r) {
    const d = (x: DedupeResult['before']) => (x === null ? 'mixed' : `${x.dedupe ? 'on' : 'off'} (${x.from})`);
    return (
      `speed dedupe ${d(r.before)} -> ${d(r.after)}, obeyed by every partition's consumer within ${(r.tookMs / 1000).toFixed(1)} s (control version ${r.version}):\n` +
      r.partitions.map((p) => `  partition ${p.partition}: dedupe ${p.dedupe ? 'on' : 'off'} (${p.dedupeFrom})\n`).join('')
    );
  }
  if ('lagWhilePaused' in r) {
    return (
      `sent ${r.sent} events while the speed layer was paused:\n` +
      `  Kafka lag:                 ${r.lagAtPause} -> ${r.lagWhilePaused} while paused -> ${r.lagAfter} after the resume\n` +
      `  applied while paused:      ${r.appliedWhilePaused} events (offsets moved ${r.offsetsMovedWhilePaused})\n` +
      `  applied after the resume:  ${r.appliedAfterResume} events in ${(r.catchUpMs / 1000).toFixed(1)} s; the series counts ${r.counted} of the ${r.sent}\n` +
      `  copies applied / skipped:  ${r.duplicatesApplied} / ${r.duplicatesSkipped}\n`
    );
  }
  const sent = Object.entries(r.sentInvalid)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return (
    `produced ${sent} invalid and ${r.sentValid} valid records (key ${r.key}):\n` +
    `  speed layer, invalid by reason:    ${kv(r.speedInvalidByReason)}\n` +
    `  archiver, invalid by reason:       ${kv(r.archiverInvalidByReason)}\n` +
    `  dead-letter topic:                 +${r.deadLettersAdded ?? '?'} records\n` +
    `  valid ones counted by the series:  ${r.validCounted}\n` +
    (r.batch
      ? `  batch run ${r.batch.runId} (${r.batch.runs} run(s)): invalid counters grew by: ${kv(r.batch.invalidAdded)}; events kept +${r.batch.eventsKeptAdded}\n`
      : '')
  );
}
