/**
 * Lab experiment "invalid": produce invalid records of named kinds, with valid ones among them,
 * straight to the event topic (admin: POST /api/v1/admin/events/raw, unvalidated, as any Kafka
 * producer could; the public ingest refuses them before Kafka), and watch where they go (issue 20;
 * docs/design-decisions.md §2): the speed layer counts each by reason (exactly once, in Redis) and
 * dead-letters it, the archiver dead-letters it too and keeps it out of the master dataset, so a
 * batch run never meets it; the valid ones are counted as usual.
 */
import { INVALID_REASONS, type InvalidReason } from '../../shared/invalid-reasons.js';
import { floorTo } from '../../shared/time.js';
import { expectAdminOk, expectOk, type LabApi } from '../lab-api.js';
import { invalidByReason, readSpeed, viewsOfUrl, type SpeedView } from '../speed-control.js';
import { untilTrue } from '../wait.js';
import { batchNow } from './batch-now.js';

export const INVALID_EXPLANATION = [
  'Every layer validates an event with the same rules (shared/events.ts), so a record is invalid everywhere, for the same reason.',
  'The public ingest refuses invalid records before Kafka; records produced straight to Kafka are not checked. This produces invalid',
  'records of each kind and valid ones among them, unvalidated, to the event topic (admin: POST /api/v1/admin/events/raw), all with',
  'one Kafka key, so they land on one partition in order. The speed layer counts each invalid one by reason (exactly once, with its',
  'offset) and sends it to the dead-letter topic <topic>.dlq; the archiver sends it there too and keeps it out of the master dataset,',
  'so the dead-letter topic grows by two letters per invalid record, and a batch run never meets one: its invalid counters do not',
  'move, while the valid records are in its counts. The valid ones are counted by the speed layer within seconds.',
].join('\n');

/** The kinds the experiment can produce: every reason a record can be invalid for (shared/invalid-reasons.ts). */
export const INVALID_KINDS = INVALID_REASONS;
export type InvalidKind = InvalidReason;

/** One record of `kind`: invalid for exactly that reason under any views file. */
export function invalidRecord(kind: InvalidKind, run: string, i: number, ts: number): string {
  const url = `/lab/${run}`;
  switch (kind) {
    case 'not_json':
      return `{"id": "${run}-j${i}", "ts": ${ts}, "type": "pageview"`;
    case 'not_object':
      return JSON.stringify([`${run}-o${i}`, ts]);
    case 'missing_id':
      return JSON.stringify({ ts, type: 'pageview', url });
    case 'bad_id':
      return JSON.stringify({ id: i + 1, ts, type: 'pageview', url });
    case 'missing_ts':
      return JSON.stringify({ id: `${run}-t${i}`, type: 'pageview', url });
    case 'bad_ts':
      return JSON.stringify({ id: `${run}-b${i}`, ts: 'the day before yesterday', type: 'pageview', url });
    case 'bad_field': {
      // Nested deeper than any event may be (32 levels): bad_field whatever the views.
      let deep: unknown = 1;
      for (let d = 0; d < 40; d++) deep = [deep];
      return JSON.stringify({ id: `${run}-f${i}`, ts, type: 'pageview', url, deep });
    }
  }
}

export interface InvalidResult {
  /** the Kafka key every record got */
  key: string;
  sentInvalid: Partial<Record<InvalidKind, number>>;
  sentValid: number;
  url: string;
  minute: number;
  /** growth of the speed layer's invalid totals by reason (Redis, exactly once) */
  speedInvalidByReason: Record<string, number>;
  /** the valid records as the pageviews view counts them */
  validCounted: number;
  /** growth of the dead-letter topic (Kafka offsets; every layer's letters); null when the status cannot tell */
  deadLettersAdded: number | null;
  /** growth of the archiver's invalid counter by reason (/metrics of the process serving the API); null when it runs no archiver */
  archiverInvalidByReason: Record<string, number> | null;
  /** with `batch`: a run after the archiver dead-lettered them, against the run published before */
  batch?: { runId: string; invalidAdded: Record<string, number>; eventsKeptAdded: number; runs: number };
}

interface RunCounts {
  runId: string;
  counts: { invalid: Record<string, number>; eventsKept?: number };
}

async function latestRun(api: LabApi): Promise<RunCounts | null> {
  const r = expectOk('GET /api/v1/batch/runs', await api.get('/api/v1/batch/runs')) as { runs: RunCounts[] };
  return r.runs[0] ?? null;
}

/** The archiver's `lambda_invalid_events_total` by reason in /metrics; null when the process has none. */
async function archiverInvalid(api: LabApi): Promise<Record<string, number> | null> {
  const r = await api.get('/metrics');
  if (r.status !== 200 || typeof r.body !== 'string') return null;
  let found = false;
  const out: Record<string, number> = {};
  for (const m of r.body.matchAll(/^lambda_invalid_events_total\{([^}]*)\}\s+(\S+)$/gm)) {
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (labels.layer !== 'archiver' || labels.reason === undefined) continue;
    found = true;
    out[labels.reason] = Number(m[2]);
  }
  return found ? out : null;
}

/** What grew from `before` to `after`, by reason, in the order of INVALID_KINDS (then any other). */
function grown(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  const rank = (k: string) => (INVALID_KINDS.includes(k as InvalidKind) ? INVALID_KINDS.indexOf(k as InvalidKind) : INVALID_KINDS.length);
  for (const k of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))) {
    const d = (after[k] ?? 0) - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

export async function invalidRecords(
  api: LabApi,
  opts: {
    count: number;
    kinds?: readonly InvalidKind[];
    valid?: number;
    batch?: boolean;
    timeoutMs?: number;
    archiverWaitMs?: number;
    log?: (line: string) => void;
  },
): Promise<InvalidResult> {
  const log = opts.log ?? (() => undefined);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const kinds = opts.kinds ?? INVALID_KINDS;
  const valid = opts.valid ?? opts.count;
  const now = Date.now();
  const minute = floorTo(now, 'minute');
  const run = `invalid-${now.toString(36)}`;
  const url = `/lab/${run}`;
  const key = `lab-${run}`;
  const lines: string[] = [];
  const sentInvalid: Partial<Record<InvalidKind, number>> = {};
  for (const kind of kinds) {
    sentInvalid[kind] = opts.count;
    for (let i = 0; i < opts.count; i++) lines.push(invalidRecord(kind, run, i, Math.max(minute, now - i)));
  }
  const invalidTotal = lines.length;
  for (let i = 0; i < valid; i++)
    lines.push(JSON.stringify({ id: `${run}-v${i}`, ts: Math.max(minute, now - i), type: 'pageview', url, user: `${run}-u${i % 50}` }));

  const [before, archiverBefore, runBefore] = [await readSpeed(api), await archiverInvalid(api), opts.batch ? await latestRun(api) : null];
  log(`producing ${invalidTotal} invalid records (${kinds.map((k) => `${opts.count} ${k}`).join(', ')}) and ${valid} valid ones, unvalidated, with key ${key}`);
  for (let i = 0; i < lines.length; i += 500) {
    expectAdminOk(
      'POST /api/v1/admin/events/raw',
      await api.post(`/api/v1/admin/events/raw?key=${encodeURIComponent(key)}`, lines.slice(i, i + 500).join('\n'), { admin: true }),
    );
  }

  let after: SpeedView = before;
  await untilTrue(
    async () => {
      after = await readSpeed(api);
      const added = grown(invalidByReason(before), invalidByReason(after));
      return kinds.every((k) => (added[k] ?? 0) >= opts.count);
    },
    { what: 'the speed layer to count the invalid records', timeoutMs },
  );
  let counted = { views: 0, source: null as string | null };
  await untilTrue(
    async () => {
      counted = await viewsOfUrl(api, url, minute);
      return counted.views >= valid;
    },
    { what: `the speed layer to count the ${valid} valid records`, timeoutMs },
  );
  // The speed layer dead-letters before it applies; the archiver at its next flush (LAMBDA_ARCHIVER_FLUSH_MS).
  log("counted by the speed layer; waiting for the archiver's dead letters");
  let letters = after.deadLetters;
  if (before.deadLetters !== null) {
    await untilTrue(
      async () => {
        letters = (await readSpeed(api)).deadLetters;
        return letters !== null && letters - (before.deadLetters ?? 0) >= 2 * invalidTotal;
      },
      { what: "the dead-letter topic to hold both layers' letters", timeoutMs: opts.archiverWaitMs ?? 20_000 },
    ).catch(() => undefined); // no archiver running: what arrived is reported
  }
  const archiverAfter = await archiverInvalid(api);
  const result: InvalidResult = {
    key,
    sentInvalid,
    sentValid: valid,
    url,
    minute,
    speedInvalidByReason: grown(invalidByReason(before), invalidByReason(after)),
    validCounted: counted.views,
    deadLettersAdded: before.deadLetters === null || letters === null ? null : letters - before.deadLetters,
    archiverInvalidByReason: archiverAfter === null ? null : grown(archiverBefore ?? {}, archiverAfter),
  };
  if (!opts.batch) return result;

  // The run must include the valid records, which follow the invalid ones on their partition: a run
  // whose snapshot came before the archiver's flush is followed by another (at most three).
  let runs = 0;
  let latest: RunCounts | null = null;
  let eventsKeptAdded = 0;
  do {
    if (runs > 0) await new Promise((r) => setTimeout(r, 3_000));
    log(runs === 0 ? 'running a batch' : 'the run did not hold the valid records yet (the archiver had not flushed them): running another');
    await batchNow(api, { now: Date.now(), timeoutMs: 120_000 });
    runs++;
    latest = await latestRun(api);
    eventsKeptAdded = (latest?.counts.eventsKept ?? 0) - (runBefore?.counts.eventsKept ?? 0);
  } while (eventsKeptAdded < valid && runs < 3);
  if (latest === null) throw new Error('no batch run was published');
  return { ...result, batch: { runId: latest.runId, invalidAdded: grown(runBefore?.counts.invalid ?? {}, latest.counts.invalid), eventsKeptAdded, runs } };
}
