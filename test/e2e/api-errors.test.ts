/**
 * Every 4xx path of the API, against the real service (real Kafka, Redis, files): bad
 * parameters (each named), unknown view, missing and wrong tokens, bad events, oversized body;
 * plus the operational endpoints. Errors must be application/problem+json.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startApp, ADMIN_TOKEN, type AppContext } from '../support/app-context.js';

let app: AppContext;

beforeAll(async () => {
  app = await startApp({ LAMBDA_HTTP_BODY_LIMIT_BYTES: '2048' }, { speed: false, archiver: false });
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
    expectProblem(await app.get('/api/v1/views/pageviews/series?measures=views,views'), 400, 'VALIDATION', /"measures": measure "views" is listed more than once/);
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
    const r = await app.post('/api/v1/events', Array.from({ length: 30 }, () => line).join('\n'));
    expectProblem(r, 413, 'PAYLOAD_TOO_LARGE', /larger than the limit of 2048 bytes/);
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
      '/api/v1/batch/runs',
      '/api/v1/events',
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
  });
});
