/**
 * Every answer the API gives conforms to the JSON Schema /openapi.json publishes for it (issue 14),
 * on the real service: views, series, totals, drift (buckets compared, causes, batch to batch after
 * two runs), status, batch runs, ingest's 202 and the trigger's 202, and the problem+json errors.
 * The published success schemas are closed (no object admits an unnamed field), so a field the
 * server sends but the schema does not name fails here, as does a named field it does not send.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Redis } from 'ioredis';
import { floorTo, MINUTE_MS, HOUR_MS } from '../../shared/time.js';
import { batchWatermarkKey } from '../../adapters/redis/keys.js';
import { startApp, ADMIN_TOKEN, type AppContext } from '../support/app-context.js';
import { readMaster } from '../support/master-read.js';
import { waitUntil } from '../support/wait.js';
import { AnswerValidator, openObjects, successSchema, type OpenApiDoc } from '../support/openapi-answers.js';

let app: AppContext;
let v: AnswerValidator;
const now = Date.now();
const start = floorTo(now - 30 * MINUTE_MS, 'minute');
const to = floorTo(now, 'minute');

/** GETs `url` and checks the answer against the schema of `path` (the route's template). */
async function getValid(path: string, url: string, status = 200) {
  const r = await app.get(url);
  expect(r.status, `GET ${url}: ${JSON.stringify(r.body).slice(0, 300)}`).toBe(status);
  expect(v.errors('get', path, r.body), `GET ${url}`).toEqual([]);
  return r;
}

const series = (q: string) => getValid('/api/v1/views/{view}/series', `/api/v1/views/pageviews/series?${q}`);
const totals = (view: string, q: string) => getValid('/api/v1/views/{view}/totals', `/api/v1/views/${view}/totals?${q}`);
const drift = (view: string, q: string) => getValid('/api/v1/views/{view}/drift', `/api/v1/views/${view}/drift?${q}`);
const runs = () => getValid('/api/v1/batch/runs', '/api/v1/batch/runs');
const status = () => getValid('/api/v1/status', '/api/v1/status');

let accepted = 0;
async function send(lines: readonly string[]): Promise<void> {
  const r = await app.post('/api/v1/events', lines.join('\n'));
  expect(r.status).toBe(202);
  expect(v.errors('post', '/api/v1/events', r.body)).toEqual([]);
  accepted += r.body.accepted;
  // Both layers have everything before the next step reads it.
  await waitUntil(status, (s) => s.body.speed.partitions.reduce((n: number, p: { offset: number }) => n + p.offset, 0) === accepted, {
    what: `speed layer applied ${accepted}`,
    timeoutMs: 60_000,
  });
  await waitUntil(
    () => readMaster(app.master),
    (m) => m.total === accepted,
    { what: `archiver wrote ${accepted}`, timeoutMs: 60_000 },
  );
}

async function runBatch(): Promise<string> {
  const before = (await runs()).body.runs.length;
  const r = await app.post('/api/v1/batch/runs', '', { authorization: `Bearer ${ADMIN_TOKEN}` });
  expect(r.status).toBe(202);
  expect(v.errors('post', '/api/v1/batch/runs', r.body)).toEqual([]);
  // Every poll is checked too: one of them may catch the run in progress.
  const done = await waitUntil(runs, (x) => x.body.running === null && x.body.runs.length === before + 1, { what: 'batch run published', timeoutMs: 60_000 });
  return done.body.runs[0].runId;
}

const event = (id: string, ts: number, i: number) =>
  JSON.stringify(
    i % 4 === 0
      ? { id, ts, type: 'purchase', user: `u${i % 7}`, country: i % 8 === 0 ? 'KE' : 'NG', amount: 10 + i / 4 }
      : { id, ts, type: 'pageview', user: `u${i % 7}`, url: `/p/${i % 3}` },
  );

beforeAll(async () => {
  // Speed dedupe off, so drift has duplicates to attribute; lateness 0, so events sent after a run are late.
  app = await startApp({ LAMBDA_BATCH_CRON: '0 * * * *', LAMBDA_SPEED_DEDUPE: 'false', LAMBDA_ALLOWED_LATENESS_MS: '0', LAMBDA_TOPIC_PARTITIONS: '2' });
  v = new AnswerValidator((await app.get('/openapi.json')).body as OpenApiDoc);
}, 120_000);
afterAll(async () => app?.stop());

describe('answers conform to the schemas /openapi.json publishes', () => {
  it('publishes a closed schema for the success answer of every operation, and one problem schema', () => {
    for (const [path, ops] of Object.entries(v.doc.paths)) {
      for (const method of Object.keys(ops)) {
        expect(openObjects(successSchema(v.doc, method, path).schema), `${method} ${path}`).toEqual([]);
        expect(ops[method]!.responses.default?.content?.['application/problem+json']?.schema).toEqual({ $ref: '#/components/schemas/Problem' });
      }
    }
    expect(v.doc.components.schemas.Problem).toMatchObject({ required: ['type', 'title', 'status', 'code', 'detail'] });
  });

  it('views, series, totals, drift, status, runs and ingest, before and after two batch runs', async () => {
    await getValid('/api/v1/views', '/api/v1/views');
    await getValid('/api/v1/views/{view}', '/api/v1/views/revenue');
    await status();
    expect((await runs()).body.runs).toEqual([]);

    // Ingest: one invalid record among valid ones, and duplicates (the batch layer keeps one copy).
    const wave = Array.from({ length: 120 }, (_, i) => event(`w-${i}`, start + i * 10_000, i));
    const r = await app.post('/api/v1/events', 'not json');
    expect(r.status).toBe(400);
    expect(v.problemErrors(r.body)).toEqual([]);
    expect(r.body.rejected).toHaveLength(1);
    await send([...wave, '{"id": "x"}', ...wave.slice(0, 12)]);

    // Before any run: every bucket from the speed layer; old minutes past its retention are incomplete.
    const old = await series(`granularity=minute&from=${now - 6 * HOUR_MS}&to=${now - 6 * HOUR_MS + 10 * MINUTE_MS}`);
    expect(old.body.buckets[0]).toMatchObject({ source: 'speed', complete: false, incompleteReason: expect.stringMatching(/^speed_/) });
    expect(old.headers.get('lambda-incomplete-buckets')).toBe(String(old.body.incomplete.length));
    expect((await totals('pageviews', `granularity=minute&from=${start}&to=${to}`)).body.approximate).toEqual(['visitors']);
    expect((await drift('pageviews', `granularity=minute&from=${start}&to=${to}`)).body).toMatchObject({
      batch: null,
      bucketsCompared: 0,
      note: expect.any(String),
    });

    const run1 = await runBatch();
    const redis = new Redis(app.config.redis.url);
    await waitUntil(
      () => redis.get(batchWatermarkKey(app.config.redis.keyPrefix)),
      (w) => w !== null,
      { what: 'watermark published to Redis' },
    );
    redis.disconnect();
    await send(Array.from({ length: 20 }, (_, i) => event(`late-${i}`, start + i * 30_000, i + 1)));

    const s = await series(`granularity=minute&from=${start}&to=${now + MINUTE_MS}&groupBy=`);
    expect(s.body.buckets.map((b: { source: string }) => b.source)).toEqual(expect.arrayContaining(['batch', 'speed']));
    await series(`granularity=hour&filter=url:/p/1&limit=2`);
    // Distinct totals across the boundary: unions of the run's sketches and the speed HLLs (issue 16).
    const crossing = (await totals('pageviews', `granularity=minute&from=${start}&to=${to}`)).body;
    expect(crossing).toMatchObject({ approximate: ['visitors'], unavailable: {}, standardError: { visitors: expect.any(Number) } });
    expect(crossing.sources.batchBuckets).toBeGreaterThan(0);
    await totals('revenue', `granularity=hour&groupBy=`);
    const d1 = await drift('pageviews', `granularity=minute&from=${now - 4 * HOUR_MS}&to=${to}`);
    expect(d1.body.bucketsCompared).toBeGreaterThan(0);
    expect(d1.body.notCompared.length).toBeGreaterThan(0);
    const causes = new Set(d1.body.buckets.flatMap((b: { causes: { cause: string }[] }) => b.causes.map((c) => c.cause)));
    expect([...causes]).toEqual(expect.arrayContaining(['late_arrivals', 'duplicates', 'hll_estimate']));
    expect(d1.body.batchToBatch).toEqual({ note: expect.any(String), changes: [] });

    const run2 = await runBatch();
    const d2 = await drift('pageviews', `granularity=minute&from=${start}&to=${to}`);
    expect(d2.body.batchToBatch).toMatchObject({ previousRunId: run1, latestRunId: run2, lateEventsAbsorbed: expect.any(Number) });
    expect(d2.body.batchToBatch.changes.length).toBeGreaterThan(0);
    await drift('revenue', `granularity=minute&from=${start}&to=${to}&measures=revenue,max_order`);
    expect((await status()).body.batch.lastRun.runId).toBe(run2);

    // The Kappa rebuild (issue 20): idle, started, every poll (one may catch it running), its result.
    await getValid('/api/v1/kappa/rebuilds', '/api/v1/kappa/rebuilds');
    const kappa = await app.post('/api/v1/kappa/rebuilds?view=pageviews&granularity=minute', '', { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(kappa.status).toBe(202);
    expect(v.errors('post', '/api/v1/kappa/rebuilds', kappa.body)).toEqual([]);
    const rebuilt = await waitUntil(
      () => getValid('/api/v1/kappa/rebuilds', '/api/v1/kappa/rebuilds'),
      (x) => x.body.state === 'done',
      { what: 'the Kappa rebuild', timeoutMs: 90_000 },
    );
    expect(rebuilt.body.result.comparisons[0].counts).toMatchObject({ different: 0, not_rebuildable: 0, newer_in_log: 0, equal: expect.any(Number) });
    expect(rebuilt.body.result.comparisons[0].counts.equal).toBeGreaterThan(10);
    // The admin's runtime tools (issue 20): the speed switches (set to what they are) and the raw ingest.
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const dedupe = await app.get('/api/v1/admin/speed/dedupe', { method: 'PUT', body: '{"enabled":null}', headers: admin });
    expect(dedupe.status).toBe(200);
    expect(v.errors('put', '/api/v1/admin/speed/dedupe', dedupe.body)).toEqual([]);
    const pause = await app.get('/api/v1/admin/speed/pause', { method: 'PUT', body: '{"paused":false}', headers: admin });
    expect(v.errors('put', '/api/v1/admin/speed/pause', pause.body)).toEqual([]);
    expect(pause.body.control).toMatchObject({ dedupe: null, paused: false, version: 2 });
    const raw = await app.post('/api/v1/admin/events/raw?key=k1', 'not json\n{"id": 7}', { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(raw.status).toBe(202);
    expect(v.errors('post', '/api/v1/admin/events/raw', raw.body)).toEqual([]);
    expect(raw.body).toEqual({ produced: 2, topic: app.config.kafka.topic, key: 'k1', partition: null });
    await waitUntil(status, (x) => x.body.speed.partitions.some((p: { control?: { controlVersion: number } }) => p.control?.controlVersion === 2), {
      what: 'a report under the new control',
      timeoutMs: 30_000,
    });

    expect([...v.checked].sort()).toEqual(
      Object.entries(v.doc.paths)
        .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`))
        .sort(),
    );
  });

  it('an answer with a field the schema does not name, or without one it requires, does not conform', async () => {
    const { body } = await app.get(`/api/v1/views/pageviews/series?granularity=minute&from=${start}&to=${to}`);
    expect(v.errors('get', '/api/v1/views/{view}/series', body)).toEqual([]);
    expect(v.errors('get', '/api/v1/views/{view}/series', { ...body, surprise: 1 })).not.toEqual([]);
    const { provenance: _, ...without } = body;
    expect(v.errors('get', '/api/v1/views/{view}/series', without)).not.toEqual([]);
  });

  it('errors conform to the problem schema', async () => {
    for (const url of ['/api/v1/views/nope/series', '/api/v1/views/pageviews/series?granularity=week', '/api/v1/nothing-here']) {
      const r = await app.get(url);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(v.problemErrors(r.body), url).toEqual([]);
    }
  });
});
