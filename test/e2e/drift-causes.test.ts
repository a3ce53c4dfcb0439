/**
 * Drift that explains itself (issue 12), end to end on the real Kafka, Redis, archiver, batch
 * runs and HTTP: each cause is injected, alone and then together, and the drift report's
 * per-bucket cause counts must equal the injected numbers exactly, with nothing unexplained.
 *
 *   late arrivals            events for batch-served buckets sent after the run was published
 *   duplicates (dedupe off)  copies of ids on the same partition (keyed) and on the other one
 *                            (as a keyless producer spreads them)
 *   arrived during a run     events sent after a run read its checkpoints, before it published
 *   speed keys expired       buckets older than the speed retention: named as not compared
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floorTo, MINUTE_MS } from '../../shared/time.js';
import { endOffsets } from '../../adapters/kafka/topics.js';
import { produceAll, readWholeTopic, testKafka } from '../support/archiver-kafka.js';
import { startApp, ADMIN_TOKEN, type AppContext } from '../support/app-context.js';
import { waitUntil } from '../support/wait.js';

let app: AppContext;
const now = Date.now();
const start = floorTo(now - 40 * MINUTE_MS, 'minute');
// Older than the speed retention of a minute bucket (bucket + 2 batch periods of 1 h + lateness).
const expiredStart = floorTo(now - 4 * 60 * MINUTE_MS, 'minute');
let seq = 0;

function pageview(ts: number, tag: string): { id: string; line: string } {
  const id = `${tag}-${seq++}`;
  return { id, line: JSON.stringify({ id, ts, type: 'pageview', url: `/p/${seq % 3}`, user: `u${seq % 50}` }) };
}
/** `n` pageviews spread over the 20 minutes from `from`, one every 47 s of event time. */
const events = (n: number, from: number, tag: string) => Array.from({ length: n }, (_, i) => pageview(from + ((i * 47_000) % (20 * MINUTE_MS)), tag));
const perMinute = (evs: { line: string }[]) => {
  const m = new Map<number, number>();
  for (const e of evs) {
    const b = floorTo((JSON.parse(e.line) as { ts: number }).ts, 'minute');
    m.set(b, (m.get(b) ?? 0) + 1);
  }
  return m;
};

async function send(lines: readonly string[]): Promise<void> {
  for (let i = 0; i < lines.length; i += 400) {
    const r = await app.post('/api/v1/events', lines.slice(i, i + 400).join('\n'));
    expect(r.status).toBe(202);
    expect(r.body.rejectedTotal).toBe(0);
  }
}

/** Until the speed layer has applied and the archiver has made durable every record in the topic. */
async function settled(): Promise<void> {
  const ends = await endOffsets(testKafka(app.config.kafka.brokers), app.config.kafka.topic);
  const total = [...ends.values()].reduce((a, b) => a + b, 0);
  await waitUntil(
    async () => (await app.get('/api/v1/status')).body.speed.partitions.reduce((s: number, p: { offset: number }) => s + p.offset, 0),
    (n) => n === total,
    { what: `speed layer applied ${total} records`, timeoutMs: 60_000 },
  );
  await waitUntil(
    () => app.master.readCheckpoints(),
    (cps) => [...ends].every(([p, end]) => (cps.find((c) => c.topic === app.config.kafka.topic && c.partition === p)?.lastOffset ?? -1) >= end - 1),
    { what: 'the archiver made every record durable', timeoutMs: 60_000 },
  );
}

async function startBatch(): Promise<void> {
  const r = await app.post('/api/v1/batch/runs', '', { authorization: `Bearer ${ADMIN_TOKEN}` });
  expect(r.status).toBe(202);
}

async function published(count: number): Promise<string> {
  const runs = await waitUntil(
    () => app.get('/api/v1/batch/runs'),
    (x) => x.body.running === null && x.body.runs.length === count,
    { what: `batch run ${count} published`, timeoutMs: 90_000 },
  );
  return runs.body.runs[0].runId;
}

interface Bucket {
  start: number;
  countDiff: number;
  unexplained: number;
  causes: { cause: string; events?: number; exact?: boolean }[];
}

async function drift(from: number, to: number) {
  const r = await app.get(`/api/v1/views/pageviews/drift?granularity=minute&from=${from}&to=${to}`);
  expect(r.status).toBe(200);
  return r.body as { buckets: Bucket[]; unexplainedEvents: number; notCompared: { start: number; reason: string }[]; warning?: string };
}

/** Per bucket, the exact causes as {cause: events}; buckets without any are left out. */
function exactCauses(buckets: Bucket[]): Map<number, Record<string, number>> {
  const out = new Map<number, Record<string, number>>();
  for (const b of buckets) {
    const exact = Object.fromEntries(b.causes.filter((c) => c.exact).map((c) => [c.cause, c.events as number]));
    if (Object.keys(exact).length > 0) out.set(b.start, exact);
  }
  return out;
}

/** The injected numbers as the same map: cause -> events per bucket. */
function expected(parts: Record<string, Map<number, number>>): Map<number, Record<string, number>> {
  const out = new Map<number, Record<string, number>>();
  for (const [cause, m] of Object.entries(parts)) {
    for (const [b, n] of m) out.set(b, { ...(out.get(b) ?? {}), [cause]: n });
  }
  return new Map([...out].sort(([a], [b]) => a - b));
}

beforeAll(async () => {
  // Hourly batch period: minute buckets stay in Redis for 2 h. Dedupe off, to count the copies.
  // A pause after each master file keeps a run open long enough to send events during it.
  app = await startApp({
    LAMBDA_BATCH_CRON: '0 * * * *',
    LAMBDA_SPEED_DEDUPE: 'false',
    LAMBDA_ALLOWED_LATENESS_MS: '0',
    LAMBDA_TOPIC_PARTITIONS: '2',
    LAMBDA_BATCH_FILE_DELAY_MS: '400',
  });
}, 120_000);
afterAll(async () => app?.stop());

describe('drift causes, injected and counted exactly', () => {
  it('attributes late arrivals, duplicates on the same and other partitions, and events during a run, with nothing unexplained', async () => {
    const range = [start, start + 20 * MINUTE_MS] as const;
    // The history both layers will hold, and some too old for the speed layer to keep.
    await send([...events(600, start, 'base'), ...events(40, expiredStart, 'old')].map((e) => e.line));
    await settled();
    await startBatch();
    await published(1);
    const clean = await drift(...range);
    expect(clean.buckets.length).toBe(20);
    expect(clean.buckets.filter((b) => b.countDiff !== 0 || b.causes.some((c) => c.cause !== 'hll_estimate'))).toEqual([]);
    expect(clean.unexplainedEvents).toBe(0);
    // The old buckets: in the batch run, expired in the speed layer: named, not compared.
    const old = await drift(expiredStart, expiredStart + 20 * MINUTE_MS);
    expect(old.buckets).toEqual([]);
    expect(old.notCompared.length).toBe(20);
    expect(new Set(old.notCompared.map((n) => n.reason))).toEqual(new Set(['speed_expired']));

    // 1. Late arrivals: sent after run 1 was published.
    const late1 = events(30, start, 'late1');
    await send(late1.map((e) => e.line));
    await settled();
    let d = await drift(...range);
    expect(exactCauses(d.buckets)).toEqual(expected({ late_arrivals: perMinute(late1) }));
    expect(d.unexplainedEvents).toBe(0);

    // 2. Duplicates with dedupe off: copies of base ids on the same partition (keyed by id, as the
    // ingest does) and on the other partition (explicitly, as a keyless producer may).
    const kafka = testKafka(app.config.kafka.brokers);
    const topic = await readWholeTopic(kafka, app.config.kafka.topic);
    const base = topic.filter((r) => r.key?.startsWith('base-')).slice(0, 40);
    const copies = base.map((r, i) =>
      i % 2 === 0 ? { key: r.key, value: r.value as string } : { key: null, value: r.value as string, partition: (r.partition + 1) % 2 },
    );
    await produceAll(kafka, app.config.kafka.topic, copies);
    await settled();
    d = await drift(...range);
    const dupLines = base.map((r) => ({ line: r.value as string }));
    expect(exactCauses(d.buckets)).toEqual(expected({ late_arrivals: perMinute(late1), duplicates: perMinute(dupLines) }));
    expect(d.unexplainedEvents).toBe(0);

    // 3. Events during a batch run: run 2 reads the checkpoints (which now vouch for late1 and the
    // copies), then, while it is still mapping files, more late events arrive.
    await startBatch();
    await waitUntil(
      () => app.get('/api/v1/batch/runs'),
      (x) => x.body.running?.progress?.phase === 'map',
      { what: 'run 2 past its snapshot', timeoutMs: 30_000 },
    );
    const during = events(25, start, 'during');
    await send(during.map((e) => e.line));
    const end = [...(await endOffsets(kafka, app.config.kafka.topic)).values()].reduce((a, b) => a + b, 0);
    await waitUntil(
      async () => (await app.get('/api/v1/status')).body.speed.partitions.reduce((s: number, p: { offset: number }) => s + p.offset, 0),
      (n) => n === end,
      { what: 'the speed layer applied the events sent during run 2', timeoutMs: 30_000 },
    );
    // The fault landed: run 2 was still running when the speed layer had them.
    expect((await app.get('/api/v1/batch/runs')).body.running).not.toBeNull();
    await published(2);
    d = await drift(...range);
    // late1 is in run 2 now; the copies stay (the batch layer keeps one copy per id).
    expect(exactCauses(d.buckets)).toEqual(expected({ arrived_during_batch_run: perMinute(during), duplicates: perMinute(dupLines) }));
    expect(d.unexplainedEvents).toBe(0);

    // 4. All together: late arrivals after run 2, on top of the above.
    const late2 = events(20, start + 5 * MINUTE_MS, 'late2');
    await send(late2.map((e) => e.line));
    await settled();
    d = await drift(...range);
    expect(exactCauses(d.buckets)).toEqual(
      expected({ arrived_during_batch_run: perMinute(during), late_arrivals: perMinute(late2), duplicates: perMinute(dupLines) }),
    );
    expect(d.unexplainedEvents).toBe(0);
    expect(d).not.toHaveProperty('warning');
    for (const b of d.buckets) expect(b.causes.filter((c) => c.exact).reduce((n, c) => n + (c.events ?? 0), 0)).toBe(b.countDiff);
  });
});
