/**
 * docker-compose.yml run without a Docker engine (issue 18): every application service's command,
 * with its environment from the compose file (host names, volumes and ports mapped to this
 * machine: test/support/compose-local.ts), as a local `bin/lambda-arch` process against the test's
 * Kafka and Redis. The stack it describes must answer end to end: the generator service's command
 * (bounded with --count) produces a clickstream; the speed service applies it; a batch run
 * triggered on the serve service with the compose file's admin token reads it from the archiver's
 * master dataset; the merged answers equal the reference fold (shared/reference-fold.ts) over the
 * generated records, and the speed layer's agree with them (drift 0). A wrong command, variable
 * name or value in the file fails naming the service: the second group feeds mutated copies of
 * the compose text to the same helper (test/unit/compose-local.test.ts checks the translation's
 * own errors: host:port, paths, published ports, entrypoint).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { referenceFold, referenceTotals, dimsKey, validDeduped, type FinalValues } from '../../shared/reference-fold.js';
import { groupKey } from '../../shared/aggregate/aggregate.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { floorTo, MINUTE_MS } from '../../shared/time.js';
import { getJson } from '../support/cli-http.js';
import { applicationServices, mutateService } from '../support/compose-local.js';
import { COMPOSE_TEXT, ComposeStack } from '../support/compose-stack.js';

const ROLES = ['archiver', 'speed', 'batch', 'serve'];
const GENERATED = 400;
const views = defaultViewSet();

interface SeriesAnswer {
  buckets: { start: number; source: string; complete: boolean; groups: { dims: Record<string, string | null>; values: FinalValues }[] }[];
}
interface DriftAnswer {
  buckets: { start: number; countDiff: number; rows: { dims: Record<string, string | null>; measures: Record<string, { diff: number | null }> }[] }[];
}
interface RunsAnswer {
  runs: { runId: string; counts: { eventsKept?: number } }[];
  running: unknown;
}

/** The complete buckets' groups, keyed like the reference fold (an incomplete one: the speed layer's keys expired). */
function answered(answer: SeriesAnswer, view: string): { groups: Map<string, FinalValues>; buckets: Set<number> } {
  const def = views.byName[view]!;
  const groups = new Map<string, FinalValues>();
  const buckets = new Set<number>();
  for (const b of answer.buckets.filter((x) => x.complete)) {
    buckets.add(b.start);
    for (const g of b.groups)
      groups.set(
        groupKey(
          view,
          'minute',
          b.start,
          def.dimensions.map((d) => g.dims[d] ?? null),
        ),
        g.values,
      );
  }
  return { groups, buckets };
}

/** The reference fold's groups of `view` by minute in the given buckets. */
function reference(records: readonly string[], view: string, buckets: Set<number>): Map<string, FinalValues> {
  const out = new Map<string, FinalValues>();
  for (const [key, values] of referenceFold(records, views)) {
    const [v, g, start] = JSON.parse(key) as [string, string, number];
    if (v === view && g === 'minute' && buckets.has(start)) out.set(key, values);
  }
  return out;
}

describe('the stack docker-compose.yml describes, as local processes', () => {
  let stack: ComposeStack | undefined;
  afterAll(async () => stack?.stop());

  it('ingests, applies in the speed layer, runs a batch and answers what the reference fold computes', async () => {
    stack = ComposeStack.create();
    // Every application service is exercised: four run for the whole test, the generator to its end.
    expect(applicationServices(stack.compose).sort()).toEqual([...ROLES, 'generator'].sort());
    await stack.start(ROLES);
    const serve = stack.url('serve');

    // Event times from 3 minutes back (late ones up to 30 minutes before that, --max-lateness's
    // default): every bucket is older than the watermark of a batch run made a minute from now
    // (W = arrival - LAMBDA_ALLOWED_LATENESS_MS), so the merged answer must then come wholly from
    // the batch layer; and the speed layer still holds the newest ones to compare with it (it keeps
    // a minute bucket for one bucket + 2 batch periods + the lateness after it ends: 6 minutes with
    // the compose file's settings, shared/speed/retention.ts).
    const eventStart = floorTo(Date.now() - 3 * MINUTE_MS, 'minute');
    const out = join(stack.targets.volumesDir, 'generated.jsonl');
    await stack.run('generator', ['--count', String(GENERATED), '--no-pace', '--seed', '18', '--start-ts', String(eventStart), '--out', out]);
    const records = readFileSync(out, 'utf8').split('\n').filter(Boolean);
    expect(records).toHaveLength(GENERATED);
    const from = eventStart - 31 * MINUTE_MS;
    const to = eventStart + 2 * MINUTE_MS;
    const series = (view: string) => getJson<SeriesAnswer>(`${serve}/api/v1/views/${view}/series?granularity=minute&from=${from}&to=${to}`);

    // The speed service applied every record (invalid and duplicate ones included: offsets count records).
    type Status = { speed: { partitions?: { offset: number }[] } };
    await stack.waitFor(
      async () => ((await getJson<Status>(`${serve}/api/v1/status`)).speed.partitions ?? []).reduce((n, p) => n + p.offset, 0),
      (n) => n === GENERATED,
      { what: `the speed service to apply ${GENERATED} records`, timeoutMs: 30_000 },
    );
    // A batch run, triggered with the compose file's admin token, until one has folded every valid,
    // first-seen event (the archiver flushes on its own timer, so an early run may see fewer).
    const kept = validDeduped(records, views).length;
    const token = stack.running.get('serve')!.service.env.LAMBDA_ADMIN_TOKEN;
    expect(token, 'service "serve" has no LAMBDA_ADMIN_TOKEN: POST /api/v1/batch/runs would be refused').toBeDefined();
    const trigger = () => fetch(`${serve}/api/v1/batch/runs`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const first = await trigger();
    expect([202, 409], `POST /api/v1/batch/runs: ${first.status} ${await first.text()}`).toContain(first.status);
    const run = await stack.waitFor(
      async () => {
        const runs = await getJson<RunsAnswer>(`${serve}/api/v1/batch/runs`);
        const last = runs.runs[0];
        if (runs.running === null && (last?.counts.eventsKept ?? 0) < kept) await trigger();
        return last;
      },
      (last) => last?.counts.eventsKept === kept,
      { what: `a batch run that folded all ${kept} valid events`, timeoutMs: 60_000, intervalMs: 1_000 },
    );

    const merged = await series('pageviews');
    expect(
      merged.buckets.filter((b) => b.groups.length > 0 && b.source !== 'batch'),
      `buckets not from batch run ${run?.runId}`,
    ).toEqual([]);
    const fromBatch = answered(merged, 'pageviews');
    expect(fromBatch.buckets.size, 'every bucket answered complete').toBe(merged.buckets.length);
    expect(fromBatch.groups).toEqual(reference(records, 'pageviews', fromBatch.buckets));

    // The speed layer against that run, bucket by bucket where it still holds them (the drift
    // report): no difference, so its counts equal the reference fold too. Compared after the run,
    // not before it: the scheduler's cron may publish a run at any moment, and these events are
    // older than LAMBDA_ALLOWED_LATENESS_MS, so a run made before the archiver flushed them would
    // claim their buckets without them (by design: docs/design-decisions.md §5).
    const drift = await getJson<DriftAnswer>(`${serve}/api/v1/views/pageviews/drift?granularity=minute&from=${from}&to=${to}`);
    expect(
      drift.buckets.map((b) => b.start),
      'the speed layer still holds the bucket of most events',
    ).toContain(eventStart);
    for (const b of drift.buckets) {
      expect(b.countDiff, `speed - batch views in ${new Date(b.start).toISOString()}`).toBe(0);
      for (const row of b.rows)
        expect(row.measures.views?.diff ?? 0, `speed - batch views of ${JSON.stringify(row.dims)} in ${new Date(b.start).toISOString()}`).toBe(0);
    }
    const totals = await getJson<{ totals: { dims: { country: string | null }; values: FinalValues }[] }>(
      `${serve}/api/v1/views/revenue/totals?granularity=minute&from=${from}&to=${to}`,
    );
    const wantTotals = referenceTotals(records, views, { view: 'revenue', granularity: 'minute', from, to });
    expect(new Map(totals.totals.map((t) => [dimsKey([t.dims.country]), t.values]))).toEqual(wantTotals);
  });
});

const mutate = (service: string, from: string, to: string) => mutateService(COMPOSE_TEXT, service, from, to);

describe('a wrong docker-compose.yml fails naming the service', () => {
  const stacks: ComposeStack[] = [];
  const stackOf = (text: string) => {
    const s = ComposeStack.create(text);
    stacks.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(stacks.splice(0).map((s) => s.stop()));
  });

  it('a misspelt variable name (which the service would silently ignore)', async () => {
    const s = stackOf(mutate('speed', 'LAMBDA_METRICS_PORT:', 'LAMBDA_METRIC_PORT:'));
    await expect(s.start(['speed'])).rejects.toThrow(/service "speed": LAMBDA_METRIC_PORT is not a setting/);
  });

  it('a command the image does not have', async () => {
    const s = stackOf(mutate('speed', 'command: ["speed"]', 'command: ["sped"]'));
    await expect(s.start(['speed'])).rejects.toThrow(/service "speed": `lambda-arch sped` exited \(code [1-9]/);
  });

  it('a value the service refuses at start', async () => {
    const s = stackOf(mutate('serve', 'LAMBDA_HTTP_PORT: "8080"', 'LAMBDA_HTTP_PORT: "8080"\n      LAMBDA_ADMIN_TOKEN: short'));
    await expect(s.start(['serve'])).rejects.toThrow(/service "serve": `lambda-arch serve` exited \(code [1-9][\s\S]*LAMBDA_ADMIN_TOKEN/);
  });
});
