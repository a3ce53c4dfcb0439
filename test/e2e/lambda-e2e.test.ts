/**
 * The whole architecture end to end, on the real Kafka, Redis and files: a generated stream with
 * duplicate and invalid records goes in over HTTP; after a batch run the merged series and the
 * totals equal the reference fold over the valid, deduplicated events (counts and sums exactly);
 * late events sent afterwards and the duplicates (speed dedupe off here, to make them visible)
 * are attributed by the drift endpoint, bucket by bucket; a second batch run absorbs the late
 * events, which batch-to-batch drift reports, and the merged series equals the reference again.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Redis } from 'ioredis';
import { clickstream, type GeneratedRecord } from '../../shared/generator/clickstream.js';
import { referenceFold, referenceTotals, dimsKey } from '../../shared/reference-fold.js';
import { groupKey } from '../../shared/aggregate/aggregate.js';
import { floorTo, MINUTE_MS } from '../../shared/time.js';
import { batchWatermarkKey } from '../../adapters/redis/keys.js';
import { startApp, ADMIN_TOKEN, type AppContext } from '../support/app-context.js';
import { readMaster } from '../support/master-read.js';
import { waitUntil } from '../support/wait.js';

let app: AppContext;
const now = Date.now();
const start = floorTo(now - 40 * MINUTE_MS, 'minute');
const views = () => app.rt.views;

// Wave 1: 2000 records over 25 minutes of event time, 4% duplicates, 1% invalid.
const wave1: GeneratedRecord[] = [];
const gen = clickstream({ seed: 42, startTs: start, rate: 2000 / (25 * 60), duplicateFraction: 0.04, invalidFraction: 0.01, purchaseFraction: 0.15 });
for (let i = 0; i < 2000; i++) wave1.push(gen.next().value as GeneratedRecord);
// Wave 2, sent after the first batch run: events for buckets the batch already covers.
const late = Array.from({ length: 60 }, (_, i) => {
  const ts = start + ((i * 7919) % (20 * 60)) * 1000;
  return i % 4 === 0
    ? JSON.stringify({ id: `late-${i}`, ts, type: 'purchase', user: `lu${i}`, country: 'KE', amount: 10 + i / 4 })
    : JSON.stringify({ id: `late-${i}`, ts, type: 'pageview', user: `lu${i}`, url: `/late/${i % 3}` });
});

async function send(lines: readonly string[]): Promise<{ accepted: number; rejected: number }> {
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < lines.length; i += 400) {
    const r = await app.post('/api/v1/events', lines.slice(i, i + 400).join('\n'));
    expect(r.status).toBe(202);
    accepted += r.body.accepted;
    rejected += r.body.rejectedTotal;
  }
  return { accepted, rejected };
}

async function speedCaughtUp(produced: number): Promise<void> {
  await waitUntil(
    async () => (await app.get('/api/v1/status')).body.speed.partitions.reduce((s: number, p: { offset: number }) => s + p.offset, 0),
    (n) => n === produced,
    { what: `speed layer applied ${produced} records`, timeoutMs: 60_000 },
  );
}

async function runBatch(): Promise<string> {
  const before = (await app.get('/api/v1/batch/runs')).body.runs.length;
  const r = await app.post('/api/v1/batch/runs', '', { authorization: `Bearer ${ADMIN_TOKEN}` });
  expect(r.status).toBe(202);
  const runs = await waitUntil(
    () => app.get('/api/v1/batch/runs'),
    (x) => x.body.running === null && x.body.runs.length === before + 1,
    { what: 'batch run published', timeoutMs: 60_000 },
  );
  return runs.body.runs[0].runId;
}

function expectMatchesReference(
  answer: { buckets: { start: number; source: string; groups: { dims: Record<string, string | null>; values: Record<string, number | null> }[] }[] },
  view: string,
  truth: Map<string, Record<string, number | null>>,
  g: 'minute' | 'hour',
) {
  const def = views().byName[view]!;
  let compared = 0;
  for (const b of answer.buckets) {
    for (const grp of b.groups) {
      const dims = def.dimensions.map((d) => grp.dims[d] ?? null);
      const want = truth.get(groupKey(view, g, b.start, dims));
      expect(want, `${view} ${g} ${b.start} ${JSON.stringify(dims)} exists in the reference`).toBeDefined();
      for (const [m, md] of Object.entries(def.measures)) {
        if (md.type === 'distinct' && b.source === 'speed') {
          expect(Math.abs((grp.values[m] ?? 0) - (want![m] ?? 0))).toBeLessThanOrEqual(Math.ceil((want![m] ?? 0) * 0.03) + 1);
        } else {
          expect(grp.values[m], `${view} ${b.start} ${JSON.stringify(dims)} ${m}`).toBe(want![m]);
        }
      }
      compared++;
    }
  }
  const inRange = [...truth.keys()].filter((k) => {
    const [v, gg, bs] = JSON.parse(k) as [string, string, number];
    return v === view && gg === g && answer.buckets.some((b) => b.start === bs);
  });
  expect(compared).toBe(inRange.length);
}

beforeAll(async () => {
  // An hourly batch period keeps minute buckets in Redis for 2 h (retention = bucket + two periods + lateness).
  app = await startApp({ LAMBDA_BATCH_CRON: '0 * * * *', LAMBDA_SPEED_DEDUPE: 'false', LAMBDA_ALLOWED_LATENESS_MS: '0', LAMBDA_TOPIC_PARTITIONS: '2' });
}, 120_000);
afterAll(async () => app?.stop());

describe('lambda architecture end to end', () => {
  it('merges, reports drift with its causes, and corrects the speed layer with the next batch run', async () => {
    // 1. Ingest wave 1 over HTTP: invalid records are rejected per record, the rest is durable in Kafka.
    const r1 = await send(wave1.map((r) => r.value));
    expect(r1.rejected).toBe(wave1.filter((r) => r.kind === 'invalid').length);
    expect(r1.accepted).toBe(wave1.length - r1.rejected);
    await speedCaughtUp(r1.accepted);
    await waitUntil(
      () => readMaster(app.master),
      (m) => m.total === r1.accepted,
      { what: 'archiver wrote every record', timeoutMs: 60_000 },
    );

    // 2. First batch run; the merged series and totals equal the reference fold.
    const run1 = await runBatch();
    const redis = new Redis(app.config.redis.url);
    await waitUntil(
      () => redis.get(batchWatermarkKey(app.config.redis.keyPrefix)),
      (w) => w !== null,
      { what: 'watermark published to Redis' },
    );
    redis.disconnect();
    const truth1 = referenceFold(
      wave1.map((r) => r.value),
      views(),
    );
    const to = floorTo(now, 'minute');
    const series = await app.get(`/api/v1/views/pageviews/series?granularity=minute&from=${start}&to=${to}`);
    expect(series.status).toBe(200);
    expect(series.body.batch.runId).toBe(run1);
    expect(series.headers.get('lambda-incomplete-buckets')).toBeNull();
    expect(series.body.buckets.every((b: { source: string }) => b.source === 'batch')).toBe(true);
    expectMatchesReference(series.body, 'pageviews', truth1, 'minute');

    const totals = await app.get(`/api/v1/views/revenue/totals?granularity=minute&from=${start}&to=${to}`);
    const wantTotals = referenceTotals(
      wave1.map((r) => r.value),
      views(),
      { view: 'revenue', granularity: 'minute', from: start, to },
    );
    expect(totals.body.totals).toHaveLength(wantTotals.size);
    for (const t of totals.body.totals as { dims: { country: string | null }; values: Record<string, number | null> }[]) {
      const want = wantTotals.get(dimsKey([t.dims.country]))!;
      expect(t.values.purchases).toBe(want.purchases);
      expect(t.values.revenue).toBe(want.revenue);
      expect(t.values.max_order).toBe(want.max_order);
    }

    // 3. Late events arrive after the batch watermark passed their buckets.
    const r2 = await send(late);
    expect(r2.accepted).toBe(late.length);
    await speedCaughtUp(r1.accepted + r2.accepted);

    // 4. Drift attributes, per bucket, exactly the late events and the duplicates the speed layer applied.
    const drift = await app.get(`/api/v1/views/pageviews/drift?granularity=minute&from=${start}&to=${to}`);
    expect(drift.status).toBe(200);
    const expectLate = new Map<number, number>();
    for (const l of late.map((x) => JSON.parse(x) as { ts: number; type: string })) {
      if (l.type === 'pageview') expectLate.set(floorTo(l.ts, 'minute'), (expectLate.get(floorTo(l.ts, 'minute')) ?? 0) + 1);
    }
    const expectDups = new Map<number, number>();
    for (const d of wave1.filter((r) => r.kind === 'duplicate').map((r) => JSON.parse(r.value) as { ts: number; type: string })) {
      if (d.type === 'pageview') expectDups.set(floorTo(d.ts, 'minute'), (expectDups.get(floorTo(d.ts, 'minute')) ?? 0) + 1);
    }
    expect(drift.body.bucketsCompared).toBeGreaterThan(20);
    let lateSeen = 0;
    let dupsSeen = 0;
    for (const b of drift.body.buckets as {
      start: number;
      late: number;
      duplicates: number;
      countDiff: number;
      causes: { cause: string; events?: number }[];
    }[]) {
      expect(b.late, `late in ${new Date(b.start).toISOString()}`).toBe(expectLate.get(b.start) ?? 0);
      expect(b.duplicates, `duplicates in ${new Date(b.start).toISOString()}`).toBe(expectDups.get(b.start) ?? 0);
      expect(b.countDiff).toBe(b.late + b.duplicates);
      expect(b.causes.map((c) => c.cause)).not.toContain('unexplained');
      if (b.late > 0) expect(b.causes).toContainEqual(expect.objectContaining({ cause: 'late_arrivals', events: b.late }));
      if (b.duplicates > 0) expect(b.causes).toContainEqual(expect.objectContaining({ cause: 'duplicates', events: b.duplicates }));
      lateSeen += b.late;
      dupsSeen += b.duplicates;
    }
    expect(lateSeen).toBe([...expectLate.values()].reduce((a, b) => a + b, 0));
    expect(dupsSeen).toBeGreaterThan(0);
    expect(dupsSeen).toBe([...expectDups.values()].reduce((a, b) => a + b, 0));

    // 5. The next batch run absorbs the late events: batch-to-batch drift shows them, and the
    //    merged series equals the reference over everything sent.
    await waitUntil(
      () => readMaster(app.master),
      (m) => m.total === r1.accepted + r2.accepted,
      { what: 'archiver wrote the late events', timeoutMs: 60_000 },
    );
    const run2 = await runBatch();
    const drift2 = await app.get(`/api/v1/views/pageviews/drift?granularity=minute&from=${start}&to=${to}`);
    expect(drift2.body.batchToBatch.latestRunId).toBe(run2);
    expect(drift2.body.batchToBatch.previousRunId).toBe(run1);
    expect(drift2.body.batchToBatch.lateEventsAbsorbed).toBe(lateSeen);
    const truth2 = referenceFold([...wave1.map((r) => r.value), ...late], views());
    const series2 = await app.get(`/api/v1/views/pageviews/series?granularity=minute&from=${start}&to=${to}`);
    expectMatchesReference(series2.body, 'pageviews', truth2, 'minute');
  });
});
