/**
 * `lambda-arch kappa rebuild`: the Kappa rebuild from a terminal (issue 20; docs/design-decisions.md,
 * "Lambda vs Kappa"). Like `lab`, an API client of a running service (lab/experiments/kappa-rebuild.ts):
 * the rebuild runs in the serving process, which holds the batch runs it is compared with, so the
 * terminal and the dashboard's button start the same code, against any deployment (--url).
 */
import { LambdaError } from '../../shared/errors.js';
import { httpLabApi } from '../../lab/lab-api.js';
import { KAPPA_EXPLANATION, kappaRebuild, kappaTotals, type KappaOutcome } from '../../lab/experiments/kappa-rebuild.js';
import type { Command } from '../args.js';

export const kappaCommand: Command = {
  name: 'kappa',
  usage: 'kappa rebuild [--url URL] [--view V] [--granularity G] [--admin-token T] [--json]',
  summary:
    "Lambda vs Kappa: replay the event topic from its earliest retained offset through the speed layer's code into a fresh Redis prefix, and compare every bucket with the published batch run (equal, or not rebuildable where retention deleted records).",
  options: {
    url: { type: 'string' },
    view: { type: 'string' },
    granularity: { type: 'string' },
    'admin-token': { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    url: 'the serving layer (default http://127.0.0.1:$LAMBDA_HTTP_PORT, port 8080)',
    view: 'compare this view only (default: every view)',
    granularity: 'compare this granularity only (default: every one)',
    'admin-token': 'the admin token (default $LAMBDA_ADMIN_TOKEN)',
    json: 'print the result as one JSON line (for scripts and tests)',
  },
  async run({ values, positionals, env }) {
    if (positionals[0] !== 'rebuild' || positionals.length > 1) {
      throw new LambdaError('VALIDATION', `kappa: expected "rebuild", got ${JSON.stringify(positionals.join(' '))}`);
    }
    const url = typeof values.url === 'string' ? values.url : `http://127.0.0.1:${env.LAMBDA_HTTP_PORT ?? '8080'}`;
    const token = typeof values['admin-token'] === 'string' ? values['admin-token'] : env.LAMBDA_ADMIN_TOKEN;
    const say = (line: string) => process.stderr.write(`${line}\n`);
    say(KAPPA_EXPLANATION);
    let lastPct = -1;
    const result = await kappaRebuild(httpLabApi(url, token), {
      view: typeof values.view === 'string' ? values.view : undefined,
      granularity: typeof values.granularity === 'string' ? values.granularity : undefined,
      log: say,
      onProgress: (done, total, phase) => {
        const pct = total === 0 ? 100 : Math.floor((100 * done) / total);
        if (pct !== lastPct) say(`${phase}: ${done} of ${total} records (${pct}%)`);
        lastPct = pct;
      },
    });
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : describe(result));
  },
};

function describe(r: KappaOutcome): string {
  const t = kappaTotals(r);
  const lines = [
    `Kappa rebuild ${r.rebuildId}: ${r.rebuild.records} records replayed in ${(r.rebuild.replayMs / 1000).toFixed(1)} s;` +
      ` batch run ${r.batchRun.runId} took ${(r.batchRun.totalMs / 1000).toFixed(1)} s over ${r.batchRun.eventsRead} records`,
    `buckets before W (${new Date(r.batchRun.watermark).toISOString()}): ${t.equal} equal, ${t.not_rebuildable} not rebuildable, ${t.newer_in_log} newer in the log, ${t.different} different`,
  ];
  for (const p of r.lost.partitions)
    lines.push(`  partition ${p.partition}: the log starts at offset ${p.logStart}; ${p.events} archived events below it are gone from the log`);
  for (const c of r.comparisons) {
    for (const b of c.buckets.filter((x) => x.status !== 'equal').slice(0, 20)) {
      lines.push(
        `  ${c.view}/${c.granularity} ${new Date(b.start).toISOString()}: ${b.status} batch ${JSON.stringify(b.batch)} kappa ${JSON.stringify(b.kappa)}${b.lostEvents ? ` (${b.lostEvents} events lost)` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
