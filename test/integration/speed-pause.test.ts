/**
 * The speed layer paused and resumed at runtime in the middle of a stream (issue 20; the runtime
 * control, docs/design-decisions.md §6): events keep arriving while the consumers pause, in small
 * sub-batches so the pause lands between them; once every partition reports paused, nothing is
 * applied for as long as it lasts (offsets and totals stand still, the lag holds the rest); resumed,
 * every event is applied exactly once (the totals and the series count each once, no copy).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floorTo, MINUTE_MS } from '../../shared/time.js';
import { startApp, ADMIN_TOKEN, type AppContext } from '../support/app-context.js';
import { waitUntil } from '../support/wait.js';

let app: AppContext;

beforeAll(async () => {
  app = await startApp({ LAMBDA_BATCH_CRON: '0 * * * *', LAMBDA_TOPIC_PARTITIONS: '3', LAMBDA_SPEED_APPLY_MAX_EVENTS: '20' }, { archiver: false });
}, 120_000);
afterAll(async () => app?.stop());

interface Part {
  offset: number;
  lag?: number;
  stale: boolean;
  caughtUp: boolean | null;
  control?: { paused: boolean; controlVersion: number };
  totals: { events: number; duplicatesApplied: number; duplicatesSkipped: number };
}
const speed = async () => (await app.get('/api/v1/status')).body.speed as { partitions: Part[] };
const sum = (ps: Part[], f: (p: Part) => number) => ps.reduce((n, p) => n + f(p), 0);
const pause = async (paused: boolean) => {
  const r = await app.get('/api/v1/admin/speed/pause', {
    method: 'PUT',
    body: JSON.stringify({ paused }),
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
  });
  expect(r.status).toBe(200);
  return r.body.control.version as number;
};

describe('the speed layer paused mid-stream', () => {
  it('applies nothing while paused and every event exactly once after the resume', async () => {
    const minute = floorTo(Date.now(), 'minute') - MINUTE_MS;
    const bodies = Array.from({ length: 10 }, (_, b) =>
      Array.from({ length: 400 }, (_, i) =>
        JSON.stringify({ id: `e-${b}-${i}`, ts: minute + ((b * 400 + i) % 60_000), type: 'pageview', url: '/paused', user: `u${i % 97}` }),
      ).join('\n'),
    );
    // The stream goes on while the pause is asked for and obeyed.
    const sending = (async () => {
      for (const body of bodies) expect((await app.post('/api/v1/events', body)).status).toBe(202);
    })();
    await waitUntil(speed, (s) => sum(s.partitions, (p) => p.totals.events) > 0, { what: 'the first events applied', timeoutMs: 30_000, intervalMs: 20 });
    const version = await pause(true);
    const paused = await waitUntil(
      speed,
      (s) =>
        s.partitions.length === 3 &&
        s.partitions.every((p) => !p.stale && p.control?.paused === true && p.control.controlVersion >= version && p.lag !== undefined),
      { what: 'every partition to report paused', timeoutMs: 30_000, intervalMs: 100 },
    );
    await sending;
    // The rest waits in Kafka: the lag (refreshed while paused) reaches it, nothing moves meanwhile.
    const held = await waitUntil(speed, (s) => sum(s.partitions, (p) => p.offset + (p.lag ?? 0)) === 4000, {
      what: 'the lag to hold every event not applied',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    expect(sum(held.partitions, (p) => p.lag ?? 0)).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 3_000));
    const still = await speed();
    expect(still.partitions.map((p) => p.offset)).toEqual(paused.partitions.map((p) => p.offset));
    expect(sum(still.partitions, (p) => p.totals.events)).toBe(sum(paused.partitions, (p) => p.totals.events));

    const resumed = await pause(false);
    const after = await waitUntil(
      speed,
      (s) =>
        s.partitions.every((p) => p.control?.paused === false && p.control.controlVersion >= resumed && p.caughtUp === true) &&
        sum(s.partitions, (p) => p.offset) === 4000,
      { what: 'every partition to resume and catch up', timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(sum(after.partitions, (p) => p.totals.events)).toBe(4000);
    expect(sum(after.partitions, (p) => p.totals.duplicatesApplied + p.totals.duplicatesSkipped)).toBe(0);
    const series = await app.get(
      `/api/v1/views/pageviews/series?granularity=minute&from=${minute}&to=${minute + MINUTE_MS}&groupBy=&measures=views&filter=url:/paused`,
    );
    expect(series.body.buckets[0].groups[0].values.views).toBe(4000);
  });
});
