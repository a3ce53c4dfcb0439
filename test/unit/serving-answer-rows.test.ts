/**
 * Many groups (issue 14): an answer that would read more rows (bucket x group) than
 * LAMBDA_SERVING_MAX_ANSWER_ROWS is a 400 naming groupBy, from scratch and from the cache alike,
 * and the SQLite store stops reading one row past the bound.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import { ServingCache } from '../../serving-layer/cache/serving-cache.js';
import { cachedSeriesAnswer } from '../../serving-layer/cache/series-cache.js';
import { cachedDriftAnswer } from '../../serving-layer/cache/drift-cache.js';
import { seriesAnswer } from '../../serving-layer/query/series.js';
import { totalsAnswer } from '../../serving-layer/query/totals.js';
import { driftAnswer } from '../../serving-layer/query/drift.js';
import { rangeQuery, resolveQuery } from '../../serving-layer/query/params.js';
import { DEFAULT_VIEWS_JSON, defaultViewSet } from '../../shared/views/default-views.js';
import { isLambdaError } from '../../shared/errors.js';
import { RunPublisher } from '../support/batch-runs.js';
import { fakeContext } from '../support/serving-fakes.js';

const views = defaultViewSet();
const view = views.byName.pageviews!;
const M = 60_000;
const T0 = Date.UTC(2024, 4, 1, 10, 0);
const NOW = T0 + 60 * M;
const q = (extra: Record<string, string> = {}) =>
  resolveQuery(view, rangeQuery.parse({ granularity: 'minute', from: String(T0), to: String(T0 + 30 * M), ...extra }), NOW);

/** 4 URLs in each of the first 3 minutes: 12 stored rows. */
function events(): object[] {
  const out: object[] = [];
  for (let minute = 0; minute < 3; minute++)
    for (let u = 0; u < 4; u++) out.push({ id: `e${minute}-${u}`, ts: T0 + minute * M, type: 'pageview', url: `/u${u}`, user: 'v' });
  return out;
}

async function refusal(answer: Promise<unknown>): Promise<unknown> {
  try {
    await answer;
  } catch (err) {
    if (isLambdaError(err))
      return { code: err.code, message: err.message, params: (err.details?.invalidParams as { parameter: string }[]).map((p) => p.parameter) };
    throw err;
  }
  return 'answered';
}

describe('answer rows bound', () => {
  let dir: string;
  let publisher: RunPublisher;
  let store: SqliteBatchViewStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'answer-rows-'));
    publisher = new RunPublisher(dir, views, DEFAULT_VIEWS_JSON);
    store = new SqliteBatchViewStore(dir);
    publisher.publish('run-1', T0 + 10 * M, events(), 2);
    publisher.publish('run-2', T0 + 20 * M, events(), 2);
  });
  afterEach(() => {
    store.close();
    publisher.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the SQLite store reads one row past maxRows, not the rest', () => {
    const all = store.series({ view: 'pageviews', granularity: 'minute', from: T0, to: T0 + 30 * M });
    expect(all).toHaveLength(12);
    expect(store.series({ view: 'pageviews', granularity: 'minute', from: T0, to: T0 + 30 * M, maxRows: 5 })).toEqual(all.slice(0, 6));
  });

  it('series, totals and drift: a 400 naming groupBy past the bound, the same from the cache; an answer within it is whole', async () => {
    const ctx = { ...fakeContext(views, NOW, store), maxAnswerRows: 11 };
    const cache = new ServingCache({ cacheBytes: 1 << 20, speedMaxStaleMs: 0 }, null, () => NOW);
    const refused = {
      code: 'VALIDATION',
      message: expect.stringContaining('query parameter "groupBy": the answer would read more than 11 rows') as unknown,
      params: ['groupBy', 'filter', 'from', 'granularity'],
    };
    expect(await refusal(seriesAnswer(ctx, view, q()))).toEqual(refused);
    expect(await refusal(cachedSeriesAnswer(ctx, cache, view, q()))).toEqual(refused);
    expect(await refusal(totalsAnswer(ctx, view, q()))).toEqual(refused);
    // Drift reads every run's rows of the range for batch-to-batch: 12 each.
    expect(await refusal(driftAnswer(ctx, view, q()))).toEqual(refused);
    expect(await refusal(cachedDriftAnswer(ctx, cache, view, q()))).toEqual(refused);
    // Rolled up in SQLite (no groupBy), the same range reads 3 rows: answered, every event counted.
    const rolled = (await seriesAnswer(ctx, view, q({ groupBy: '' }))).answer;
    expect(rolled.buckets.slice(0, 3).map((b) => b.groups[0]?.values.views)).toEqual([4, 4, 4]);
    const cached = await cachedSeriesAnswer(ctx, cache, view, q({ groupBy: '' }));
    expect(cached.body.body.toString()).toBe(JSON.stringify(rolled));
    // At the bound exactly: answered.
    expect(await refusal(seriesAnswer({ ...ctx, maxAnswerRows: 12 }, view, q()))).toBe('answered');
  });
});
