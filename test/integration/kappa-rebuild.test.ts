/**
 * The Kappa rebuild (issue 20; docs/design-decisions.md, "Lambda vs Kappa") against the real
 * service, Kafka, Redis and batch run files, driven through its HTTP endpoints by the lab's client
 * (the code `lambda-arch kappa rebuild` and the dashboard run):
 *
 * 1. a fully retained topic: the replay through the speed layer equals the batch run in every
 *    bucket of every view and granularity, and leaves no Redis key behind (and deletes the keys a
 *    rebuild of a dead process left);
 * 2. after deleteRecords on partition 0 up to offset 60: exactly the buckets of those 60 events
 *    are named not rebuildable, with their event counts, Kappa short by exactly them; every other
 *    bucket is still equal;
 * 3. then 3 events produced after the batch run for a minute it covers: that minute is
 *    `newer_in_log` with those 3 events, not `different`.
 *
 * The second rebuild runs through `lambda-arch kappa rebuild --json`. The events are produced
 * straight to chosen partitions, so the test knows each one's offset.
 */
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { endOffsets } from '../../adapters/kafka/topics.js';
import { allKeyPatterns, kappaPrefix, kappaRebuildsKey } from '../../adapters/redis/keys.js';
import { httpLabApi } from '../../lab/lab-api.js';
import { kappaRebuild, type KappaOutcome } from '../../lab/experiments/kappa-rebuild.js';
import { floorTo, HOUR_MS, MINUTE_MS, type Granularity } from '../../shared/time.js';
import { testKafka } from '../support/archiver-kafka.js';
import { startApp, ADMIN_TOKEN, type AppContext, archivedAll } from '../support/app-context.js';
import { runCli } from '../support/cli-process.js';
import { waitUntil } from '../support/wait.js';

let app: AppContext;
let kafka: Kafka;
const base = floorTo(Date.now() - 5 * HOUR_MS, 'hour');

interface Ev {
  id: string;
  ts: number;
  type: string;
  url?: string;
  user?: string;
  country?: string;
  amount?: number;
}

/** One event a minute on each partition for two hours; every fourth a purchase. */
function eventsOf(partition: number): Ev[] {
  return Array.from({ length: 120 }, (_, i) => {
    const ts = base + i * MINUTE_MS + partition * 30_000;
    const id = `k${partition}-${i}`;
    return i % 4 === 0
      ? { id, ts, type: 'purchase', country: `c${i % 3}`, amount: 1.25 + i }
      : { id, ts, type: 'pageview', url: `/p/${i % 5}`, user: `u${i % 7}` };
  });
}
const p0 = eventsOf(0);
const p1 = eventsOf(1);

async function produceTo(partition: number, values: string[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({ topic: app.config.kafka.topic, acks: -1, messages: values.map((value) => ({ partition, key: null, value })) });
  } finally {
    await producer.disconnect();
  }
}

/** Expected per bucket: how many of `events` a view holds there. */
function bucketsOf(events: readonly Ev[], view: string, g: Granularity): Map<number, number> {
  const type = view === 'pageviews' ? 'pageview' : 'purchase';
  const out = new Map<number, number>();
  for (const e of events) if (e.type === type) out.set(floorTo(e.ts, g), (out.get(floorTo(e.ts, g)) ?? 0) + 1);
  return out;
}

const countMeasure = (view: string) => (view === 'pageviews' ? 'views' : 'purchases');

async function kappaKeys(): Promise<number> {
  const redis = new Redis(app.config.redis.url);
  try {
    let n = 0;
    for (const pattern of allKeyPatterns(`${app.config.redis.keyPrefix}:kappa`)) n += (await redis.keys(pattern)).length;
    return n + (await redis.zcard(kappaRebuildsKey(app.config.redis.keyPrefix)));
  } finally {
    redis.disconnect();
  }
}

beforeAll(async () => {
  app = await startApp({ LAMBDA_BATCH_CRON: '0 * * * *', LAMBDA_ALLOWED_LATENESS_MS: '0' });
  kafka = testKafka(app.config.kafka.brokers);
  await produceTo(
    0,
    p0.map((e) => JSON.stringify(e)),
  );
  // Partition 1 also holds a copy of one event (the batch keeps one per id, and so must Kappa,
  // although the copy arrives hours after its event's dedupe window) and an invalid record.
  await produceTo(1, [...p1.map((e) => JSON.stringify(e)), JSON.stringify(p1[5]), 'not json']);
  const ends = await endOffsets(kafka, app.config.kafka.topic);
  expect([...ends].sort()).toEqual([
    [0, 120],
    [1, 122],
  ]);
  await archivedAll(app);
  expect((await app.post('/api/v1/batch/runs', '', { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(202);
  await waitUntil(
    () => app.get('/api/v1/batch/runs'),
    (r) => r.body.running === null && r.body.runs.length === 1,
    { what: 'the batch run to be published', timeoutMs: 90_000 },
  );
}, 180_000);
afterAll(async () => {
  await app?.stop();
});

function expectComparisons(r: KappaOutcome, lost: readonly Ev[]): void {
  expect(r.comparisons.map((c) => `${c.view}/${c.granularity}`).sort()).toEqual([
    'pageviews/day',
    'pageviews/hour',
    'pageviews/minute',
    'revenue/day',
    'revenue/hour',
    'revenue/minute',
  ]);
  for (const c of r.comparisons) {
    const g = c.granularity as Granularity;
    const what = `${c.view}/${g}`;
    // Only buckets before the run's boundary are compared (today's day bucket may not be).
    const before = (m: Map<number, number>) => new Map([...m].filter(([start]) => start < c.boundary));
    const all = before(bucketsOf([...p0, ...p1], c.view, g));
    const gone = before(bucketsOf(lost, c.view, g));
    if (g === 'minute') expect(all.size, what).toBe(c.view === 'pageviews' ? 90 : 30);
    expect(c.omitted, what).toBe(0);
    expect(c.counts, what).toEqual({ equal: all.size - gone.size, not_rebuildable: gone.size, newer_in_log: 0, different: 0 });
    for (const b of c.buckets) {
      const inBatch = all.get(b.start);
      expect(b.batch[countMeasure(c.view)], `${what} ${b.start}`).toBe(inBatch);
      expect(b.lostEvents, `${what} ${b.start}`).toBe(gone.get(b.start) ?? 0);
      // Kappa has exactly what the log still holds.
      expect(b.kappa[countMeasure(c.view)], `${what} ${b.start}`).toBe((inBatch ?? 0) - (gone.get(b.start) ?? 0));
      expect(b.status, `${what} ${b.start}`).toBe(gone.has(b.start) ? 'not_rebuildable' : 'equal');
    }
  }
}

describe('Kappa rebuild', () => {
  it('is refused without the admin token and for an unknown view', async () => {
    expect((await app.post('/api/v1/kappa/rebuilds', '')).status).toBe(401);
    const bad = await app.post('/api/v1/kappa/rebuilds?view=nope', '', { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(bad.status).toBe(400);
    expect(bad.body.invalidParams[0].parameter).toBe('view');
    const hourly = await app.post('/api/v1/kappa/rebuilds?view=pageviews&granularity=week', '', { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(hourly.status).toBe(400);
    expect(hourly.body.invalidParams[0].parameter).toBe('granularity');
  });

  it('runs one rebuild at a time: a second request while one runs is a 409', async () => {
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const first = await app.post('/api/v1/kappa/rebuilds?view=revenue&granularity=hour', '', auth);
    expect(first.status).toBe(202);
    // The replay first joins a new consumer group (hundreds of ms at least): the rebuild still runs.
    const second = await app.post('/api/v1/kappa/rebuilds', '', auth);
    expect(second.status).toBe(409);
    expect(second.body.detail).toContain(first.body.rebuildId);
    const done = await waitUntil(
      () => app.get('/api/v1/kappa/rebuilds'),
      (r) => r.body.state !== 'running',
      { what: 'the rebuild to end', timeoutMs: 120_000 },
    );
    expect(done.body).toMatchObject({ state: 'done', rebuildId: first.body.rebuildId });
    expect(done.body.result.comparisons.map((c: { view: string; granularity: string }) => `${c.view}/${c.granularity}`)).toEqual(['revenue/hour']);
  });

  it('equals the batch views for a fully retained topic, and names exactly the lost buckets after deleteRecords', async () => {
    // Keys left by a rebuild whose process died (its heartbeat is old): the next rebuild deletes them.
    const redis = new Redis(app.config.redis.url);
    const dead = kappaPrefix(app.config.redis.keyPrefix, 'dead-1');
    await redis.zadd(kappaRebuildsKey(app.config.redis.keyPrefix), Date.now() - 120_000, 'dead-1');
    await redis.hset(`{${dead}:p0}:state`, 'next', '7');
    await redis.sadd(`${dead}:speed:partitions`, '0');
    redis.disconnect();
    expect(await kappaKeys()).toBe(3);

    const api = httpLabApi(app.url, ADMIN_TOKEN);
    const first = await kappaRebuild(api, { timeoutMs: 120_000 });
    expect(first.rebuild.records).toBe(242);
    expect(first.lost).toEqual({ partitions: [], exact: true });
    expectComparisons(first, []);
    expect(first.rebuild.keysDeleted).toBeGreaterThan(0);
    expect(await kappaKeys()).toBe(0);

    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.fetchTopicMetadata({ topics: [app.config.kafka.topic] }); // kafkajs deletes only on a topic whose metadata it loaded
      await admin.deleteTopicRecords({ topic: app.config.kafka.topic, partitions: [{ partition: 0, offset: '60' }] });
    } finally {
      await admin.disconnect();
    }
    // The second one through `lambda-arch kappa rebuild` (the same client, as a user runs it).
    const cli = await runCli(
      ['kappa', 'rebuild', '--url', app.url, '--json'],
      { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, HOME: tmpdir(), LAMBDA_ADMIN_TOKEN: ADMIN_TOKEN },
      { timeoutMs: 120_000 },
    );
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stderr).toContain("depends on the event log's retention");
    const second = JSON.parse(cli.stdout.trim().split('\n').pop() ?? '') as KappaOutcome;
    expect(second.rebuild.records).toBe(182);
    expect(second.lost).toEqual({ partitions: [{ partition: 0, logStart: 60, events: 60 }], exact: true });
    expectComparisons(second, p0.slice(0, 60));
    expect(await kappaKeys()).toBe(0);

    // 3. Events that arrive after the batch run, for a minute it already covers: the log has them,
    // the run does not (yet), and the rebuild says so with their number (not "different").
    const minute = base + 101 * MINUTE_MS; // a pageview minute of both partitions, not lost
    await produceTo(
      1,
      [0, 1, 2].map((i) => JSON.stringify({ id: `after-${i}`, ts: minute + i * 1_000, type: 'pageview', url: '/late', user: 'u1' })),
    );
    const third = await kappaRebuild(api, { view: 'pageviews', granularity: 'minute', timeoutMs: 120_000 });
    const c = third.comparisons[0]!;
    expect(c.counts).toEqual({ equal: 44, not_rebuildable: 45, newer_in_log: 1, different: 0 });
    expect(c.buckets.find((b) => b.start === minute)).toMatchObject({ status: 'newer_in_log', newerEvents: 3, batch: { views: 2 }, kappa: { views: 5 } });
  }, 300_000);
});
