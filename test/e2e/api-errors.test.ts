/**
 * Every 4xx path of the API, against the real service (real Kafka, Redis, files): bad
 * parameters (each named), unknown view, missing and wrong tokens, bad events, oversized body;
 * plus the operational endpoints. Errors must be application/problem+json.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startApp, ADMIN_TOKEN, type AppContext } from '../support/app-context.js';
import { readWholeTopic, testKafka } from '../support/archiver-kafka.js';

let app: AppContext;

beforeAll(async () => {
  // Room for the hostile records of issue 14 (a 500,000-character url), small enough to test the 413.
  app = await startApp({ LAMBDA_HTTP_BODY_LIMIT_BYTES: '600000' }, { speed: false, archiver: false });
});
afterAll(async () => app?.stop());

function expectProblem(r: { status: number; headers: Headers; body: { code?: string; detail?: string } }, status: number, code: string, detail: RegExp) {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.body.code).toBe(code);
  expect(r.body.detail).toMatch(detail);
}

describe('query parameters', () => {
  it('unknown view: 404 naming the view and the known ones', async () => {
    expectProblem(await app.get('/api/v1/views/nope/series'), 404, 'NOT_FOUND', /unknown view "nope".*pageviews/);
    expectProblem(await app.get('/api/v1/views/nope'), 404, 'NOT_FOUND', /nope/);
  });

  it('bad granularity, bad time, inverted range, too many buckets, unknown dimension: 400 naming the parameter', async () => {
    expectProblem(await app.get('/api/v1/views/pageviews/series?granularity=week'), 400, 'VALIDATION', /"granularity"/);
    expectProblem(await app.get('/api/v1/views/pageviews/series?from=yesterday'), 400, 'VALIDATION', /"from"/);
    expectProblem(await app.get('/api/v1/views/pageviews/series?to=2026-01-01T00:00:00'), 400, 'VALIDATION', /"to".*zone/);
    expectProblem(await app.get('/api/v1/views/pageviews/series?from=2000&to=1000'), 400, 'VALIDATION', /"from": must be before "to"/);
    expectProblem(await app.get('/api/v1/views/pageviews/series?granularity=minute&from=0&to=100000000000'), 400, 'VALIDATION', /spans .* buckets/);
    expectProblem(await app.get('/api/v1/views/pageviews/series?filter=colour:red'), 400, 'VALIDATION', /"filter".*no dimension "colour"/);
    expectProblem(await app.get('/api/v1/views/pageviews/totals?groupBy=colour'), 400, 'VALIDATION', /"groupBy".*"colour"/);
    expectProblem(await app.get('/api/v1/views/pageviews/drift?limit=0'), 400, 'VALIDATION', /"limit"/);
    const r = await app.get('/api/v1/views/pageviews/series?granularity=week');
    expect(r.body.invalidParams).toEqual([expect.objectContaining({ parameter: 'granularity' })]);
  });

  it('a dimension repeated in groupBy, an unknown or repeated measure: 400 naming the parameter', async () => {
    for (const path of ['/api/v1/views/pageviews/totals?groupBy=url,url', '/api/v1/views/pageviews/series?groupBy=url,%20url']) {
      const r = await app.get(path);
      expectProblem(r, 400, 'VALIDATION', /"groupBy": dimension "url" is listed more than once/);
      expect(r.body.invalidParams).toEqual([expect.objectContaining({ parameter: 'groupBy' })]);
    }
    expectProblem(await app.get('/api/v1/views/pageviews/drift?measures=views,clicks'), 400, 'VALIDATION', /"measures".*no measure "clicks"/);
    expectProblem(
      await app.get('/api/v1/views/pageviews/series?measures=views,views'),
      400,
      'VALIDATION',
      /"measures": measure "views" is listed more than once/,
    );
  });

  it('an unknown route is a 404 problem, not an HTML page', async () => {
    expectProblem(await app.get('/api/v1/nothing-here'), 404, 'NOT_FOUND', /no route for GET \/api\/v1\/nothing-here/);
  });
});

describe('admin token', () => {
  it('no token: 401 with WWW-Authenticate; wrong token: 403; a malformed header: 401', async () => {
    const none = await app.post('/api/v1/batch/runs', '');
    expectProblem(none, 401, 'UNAUTHORIZED', /Bearer/);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expectProblem(await app.post('/api/v1/batch/runs', '', { authorization: 'Bearer not-the-token' }), 403, 'FORBIDDEN', /not the admin token/);
    expectProblem(await app.post('/api/v1/batch/runs', '', { authorization: `Basic ${ADMIN_TOKEN}` }), 401, 'UNAUTHORIZED', /must be "Bearer <token>"/);
  });
});

describe('ingest', () => {
  it('all records invalid: 400 listing each record with its reason', async () => {
    const body = ['{"id": "a"}', 'not json', '{"id": "", "ts": 1}', '{"id": "b", "ts": "2026-01-01T00:00:00"}'].join('\n');
    const r = await app.post('/api/v1/events', body);
    expectProblem(r, 400, 'VALIDATION', /no valid event.*4 record/);
    expect(r.body.rejected.map((x: { record: number; reason: string }) => [x.record, x.reason])).toEqual([
      [1, 'missing_ts'],
      [2, 'not_json'],
      [3, 'bad_id'],
      [4, 'bad_ts'],
    ]);
  });

  it('a bad field type is named with its view; valid records in the same body are still accepted', async () => {
    const now = Date.now();
    const body = [
      JSON.stringify({ id: 'ok-1', ts: now, type: 'pageview', url: '/a', user: 'u1' }),
      JSON.stringify({ id: 'bad-1', ts: now, type: 'purchase', country: 'DE', amount: 'ten' }),
      '',
      JSON.stringify({ id: 'ok-2', ts: new Date(now).toISOString(), type: 'purchase', country: 'DE', amount: 12.5 }),
    ].join('\n');
    const r = await app.post('/api/v1/events', body);
    expect(r.status).toBe(202);
    expect(r.body.accepted).toBe(2);
    expect(r.body.rejected).toEqual([{ record: 2, reason: 'bad_field', message: expect.stringMatching(/"amount".*number.*revenue/) }]);
  });

  it('a JSON body that does not parse is a 400; an empty body is a 400', async () => {
    expectProblem(await app.post('/api/v1/events', '{"id": ', { 'content-type': 'application/json' }), 400, 'VALIDATION', /not valid JSON/);
    expectProblem(await app.post('/api/v1/events', '', { 'content-type': 'application/json' }), 400, 'VALIDATION', /empty/);
  });

  it('a body over the limit is refused with 413, and nothing of it is produced', async () => {
    const line = JSON.stringify({ id: 'x'.repeat(100), ts: Date.now(), type: 'pageview', url: '/big', user: 'u' });
    const r = await app.post('/api/v1/events', Array.from({ length: 4000 }, () => line).join('\n'));
    expectProblem(r, 413, 'PAYLOAD_TOO_LARGE', /larger than the limit of 600000 bytes/);
  });
});

describe('hostile input (issue 14): each a 400 naming the field or parameter, nothing valid lost', () => {
  const now = Date.now();
  const deep = `{"id":"deep-1","ts":${now},"type":"pageview","url":"/a","x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
  const longUrl = JSON.stringify({ id: 'long-1', ts: now, type: 'pageview', url: `/${'x'.repeat(499_999)}`, user: 'u1' });
  const hugeUser = `{"id":"huge-1","ts":${now},"type":"pageview","url":"/a","user":9007199254740993}`;
  const infinite = `{"id":"inf-1","ts":${now},"type":"purchase","country":"DE","amount":1e400}`;
  const valid = (id: string) => JSON.stringify({ id, ts: now, type: 'pageview', url: '/ok', user: 'u1' });

  it('an event nested 5,000 arrays deep is a 400 naming record, reason and field, as NDJSON and as JSON', async () => {
    for (const [body, type] of [
      [deep, 'application/x-ndjson'],
      [deep, 'application/json'],
      [`[${deep}]`, 'application/json'],
    ] as const) {
      const r = await app.post('/api/v1/events', body, { 'content-type': type });
      expectProblem(
        r,
        400,
        'VALIDATION',
        /no valid event in the body: 1 record\(s\) rejected \(first: record 1, bad_field: field "x" nests arrays or objects more than 32 levels deep/,
      );
      expect(r.body.rejected).toEqual([{ record: 1, reason: 'bad_field', message: expect.stringMatching(/^field "x" nests .* at most 32$/) }]);
    }
  });

  it('a mixed body: valid events are produced, each hostile one is rejected with bad_field naming its field', async () => {
    const ndjson = [valid('mixed-ok-1'), deep, longUrl, hugeUser, infinite, valid('mixed-ok-2')].join('\n');
    const r = await app.post('/api/v1/events', ndjson);
    expect(r.status).toBe(202);
    expect(r.body.accepted).toBe(2);
    expect(r.body.rejected).toEqual([
      { record: 2, reason: 'bad_field', message: expect.stringMatching(/^field "x" nests/) },
      { record: 3, reason: 'bad_field', message: 'field "url" is 500000 characters long; at most 1024 (view "pageviews")' },
      { record: 4, reason: 'bad_field', message: expect.stringMatching(/^field "user" is 9007199254740992, beyond/) },
      { record: 5, reason: 'bad_field', message: 'field "amount" is not a finite number (view "revenue")' },
    ]);
    // The same as a JSON array (express.json parses it; the records are positions).
    const array = await app.post('/api/v1/events', `[${valid('mixed-ok-3')},${deep},${longUrl}]`, { 'content-type': 'application/json' });
    expect(array.status).toBe(202);
    expect(array.body.rejected.map((x: { record: number; reason: string }) => [x.record, x.reason])).toEqual([
      [2, 'bad_field'],
      [3, 'bad_field'],
    ]);
    // Durable in Kafka: the valid ones, and none of the hostile ones.
    const keys = (await readWholeTopic(testKafka(app.config.kafka.brokers), app.config.kafka.topic)).map((m) => m.key);
    expect(keys).toEqual(expect.arrayContaining(['mixed-ok-1', 'mixed-ok-2', 'mixed-ok-3']));
    expect(keys.filter((k) => ['deep-1', 'long-1', 'huge-1', 'inf-1'].includes(k as string))).toEqual([]);
  });

  it('an unknown query parameter is a 400 naming it, on every route', async () => {
    for (const path of [
      '/api/v1/views/pageviews/series?granulariy=minute',
      '/api/v1/views/pageviews/totals?foo=1',
      '/api/v1/views/pageviews/drift?groupby=url',
    ]) {
      const r = await app.get(path);
      const name = /\?([^=]+)=/.exec(path)?.[1];
      expectProblem(
        r,
        400,
        'VALIDATION',
        new RegExp(`^query parameter "${name}": unknown \\(known: granularity, from, to, filter, groupBy, limit, measures\\)$`),
      );
      expect(r.body.invalidParams).toEqual([{ parameter: name, message: expect.stringMatching(/^unknown/) }]);
    }
    for (const path of ['/api/v1/views?x=1', '/api/v1/views/pageviews?x=1', '/api/v1/status?x=1', '/api/v1/batch/runs?x=1']) {
      expectProblem(await app.get(path), 400, 'VALIDATION', /^query parameter "x": unknown \(this route takes none\)$/);
    }
    expectProblem(await app.post('/api/v1/events?dryRun=1', valid('never-sent')), 400, 'VALIDATION', /query parameter "dryRun": unknown/);
    expectProblem(
      await app.post('/api/v1/batch/runs?now=1', '', { authorization: `Bearer ${ADMIN_TOKEN}` }),
      400,
      'VALIDATION',
      /query parameter "now": unknown/,
    );
  });

  it('huge numbers in from, to and limit, and too long or repeated filters: 400 naming the parameter', async () => {
    const base = '/api/v1/views/pageviews/totals';
    expectProblem(await app.get(`${base}?from=1e400`), 400, 'VALIDATION', /^query parameter "from": .*"1e400" is not an ISO-8601/);
    expectProblem(await app.get(`${base}?to=99999999999999999999`), 400, 'VALIDATION', /^query parameter "to": .*beyond the year 9999/);
    for (const limit of ['99999999999', '1e400', '0']) {
      expectProblem(await app.get(`${base}?limit=${limit}`), 400, 'VALIDATION', /^query parameter "limit": must be a whole number from 1 to 10000$/);
    }
    expectProblem(
      await app.get(`${base}?filter=url:${'x'.repeat(1025)}`),
      400,
      'VALIDATION',
      /^query parameter "filter": the value for dimension "url" is 1025 characters long; at most 1024$/,
    );
    expectProblem(
      await app.get(`${base}?filter=url:/a&filter=url:/b`),
      400,
      'VALIDATION',
      /^query parameter "filter": dimension "url" is filtered more than once$/,
    );
    expect((await app.get(`${base}?filter=url:${'x'.repeat(1024)}&limit=10000`)).status).toBe(200);
  });
});

describe('operational endpoints', () => {
  it('livez, readyz, metrics and an OpenAPI document that lists every route', async () => {
    expect((await app.get('/livez')).status).toBe(200);
    const ready = await app.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ redis: true, kafka: true });
    const metrics = await app.get('/metrics');
    expect(metrics.body).toMatch(/lambda_serving_http_request_duration_seconds_bucket\{.*route="\/api\/v1\/views\/:view\/series"/);
    const spec = await app.get('/openapi.json');
    expect(Object.keys(spec.body.paths).sort()).toEqual([
      '/api/v1/admin/events/raw',
      '/api/v1/admin/speed/dedupe',
      '/api/v1/admin/speed/pause',
      '/api/v1/batch/runs',
      '/api/v1/events',
      '/api/v1/kappa/rebuilds',
      '/api/v1/status',
      '/api/v1/views',
      '/api/v1/views/{view}',
      '/api/v1/views/{view}/drift',
      '/api/v1/views/{view}/series',
      '/api/v1/views/{view}/totals',
    ]);
    const series = spec.body.paths['/api/v1/views/{view}/series'].get;
    expect(series.parameters.map((p: { name: string }) => p.name)).toEqual(['view', 'granularity', 'from', 'to', 'filter', 'groupBy', 'limit', 'measures']);
    expect(spec.body.paths['/api/v1/batch/runs'].post.security).toEqual([{ bearer: [] }]);
    // The admin's runtime tools (issue 20): admin-only, their JSON bodies published.
    expect(spec.body.paths['/api/v1/admin/speed/dedupe'].put.security).toEqual([{ bearer: [] }]);
    expect(spec.body.paths['/api/v1/admin/speed/pause'].put.requestBody.content['application/json'].schema).toMatchObject({ required: ['paused'] });
    expect(spec.body.paths['/api/v1/admin/events/raw'].post.security).toEqual([{ bearer: [] }]);
  });
});
