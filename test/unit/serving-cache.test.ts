/**
 * The serving cache's own rules (issue 14): the byte budget of the LRU, reads shared between
 * concurrent requests and reused only within the staleness bound, and an answer that states when
 * it read the speed layer.
 */
import { describe, expect, it } from 'vitest';
import { ByteLru } from '../../serving-layer/cache/byte-lru.js';
import { FreshReads } from '../../serving-layer/cache/fresh-reads.js';
import { sameValue } from '../../serving-layer/cache/same-value.js';
import { cachedTotalsAnswer } from '../../serving-layer/cache/totals-cache.js';
import { ServingCache } from '../../serving-layer/cache/serving-cache.js';
import { cachedSeriesAnswer } from '../../serving-layer/cache/series-cache.js';
import { rangeQuery, resolveQuery } from '../../serving-layer/query/params.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { FakeBatchStore, FakeSpeedStore, fakeContext, runInfo } from '../support/serving-fakes.js';
import { createMetrics } from '../../platform/metrics.js';

describe('ByteLru', () => {
  it('keeps the bytes it holds within its budget, dropping the least recently used first', () => {
    let evicted = 0;
    const lru = new ByteLru<string>(100, (n) => (evicted += n));
    lru.set('a', 'A', 40);
    lru.set('b', 'B', 40);
    expect(lru.get('a')).toBe('A'); // a is now the most recent
    lru.set('c', 'C', 40);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe('A');
    expect(lru.bytes).toBe(80);
    expect(evicted).toBe(1);
    expect(lru.set('huge', 'H', 101)).toBe(false);
    expect(lru.bytes).toBe(80);
    lru.set('a', 'A2', 10); // replacing re-weighs
    expect(lru.bytes).toBe(50);
    expect(lru.deleteWhere((k) => k === 'c')).toBe(1);
    expect([lru.size, lru.bytes]).toEqual([1, 10]);
  });
});

describe('FreshReads', () => {
  it('shares a read in flight and reuses it only while younger than the bound', async () => {
    let now = 1_000;
    let loads = 0;
    let release!: () => void;
    const reads = new FreshReads<number>(200, () => now);
    const load = () =>
      new Promise<number>((resolve) => {
        loads++;
        const n = loads;
        release = () => resolve(n);
      });
    const a = reads.get('k', load);
    const b = reads.get('k', load); // joins the read in flight
    release();
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toBe(rb);
    expect(loads).toBe(1);
    expect(ra.readAt).toBe(1_000);
    now = 1_100; // half the bound: reused, nothing else
    expect(await reads.get('k', load)).toBe(ra);
    expect(loads).toBe(1);
    now = 1_150; // past half the bound: still reused, and a read starts behind it (refresh ahead)
    expect(await reads.get('k', load)).toBe(ra);
    expect(loads).toBe(2);
    now = 1_201; // past the bound: waits for the read in flight, never serves the old one
    const c = reads.get('k', load);
    release();
    expect(await c).toMatchObject({ value: 2, readAt: 1_150 });
    now = 1_500; // a quiet spell: the next request reads, and waits for it
    const d = reads.get('k', load);
    expect(loads).toBe(3);
    release();
    expect(await d).toMatchObject({ value: 3, readAt: 1_500 });
  });

  it('keeps the content version of a read that brought back an equal value, and its value object', async () => {
    let now = 0;
    let value: object = { rows: [{ b: 1, sketch: Buffer.from([1, 2]) }] };
    const reads = new FreshReads<object>(100, () => now);
    const load = () => Promise.resolve(structuredClone(value));
    const first = await reads.get('k', load);
    now = 200; // past the bound: read again, an equal value (another object)
    const same = await reads.get('k', load);
    expect(same).not.toBe(first);
    expect([same.readAt, same.generation === first.generation, same.version === first.version]).toEqual([200, false, true]);
    expect(same.value).toBe(first.value);
    value = { rows: [{ b: 1, sketch: Buffer.from([1, 3]) }] }; // one register differs
    now = 400;
    const changed = await reads.get('k', load);
    expect(changed.version).not.toBe(first.version);
    expect(sameValue(changed.value, value)).toBe(true);
  });

  it('with a content check: checks first, skips the reread while the token is the same and the clock before its validUntil', async () => {
    let now = 0;
    const calls: string[] = [];
    let token = 'a';
    let validUntil = 1_000;
    let value = 1;
    const outcomes: string[] = [];
    const reads = new FreshReads<number>(
      100,
      () => now,
      512,
      (o) => outcomes.push(o),
    );
    const load = () => (calls.push('load'), Promise.resolve(value));
    const check = () => (calls.push('check'), Promise.resolve({ token, validUntil }));
    const first = await reads.get('k', load, check);
    expect(calls).toEqual(['check', 'load']); // the check before the content it vouches for

    now = 200; // past the bound, the same token: renewed without a reread
    value = 2; // (what a reread would bring back: proof that none happened)
    const renewed = await reads.get('k', load, check);
    expect(calls).toEqual(['check', 'load', 'check']);
    expect([renewed.value, renewed.readAt, renewed.version === first.version, renewed === first]).toEqual([1, 200, true, false]);
    expect(outcomes).toEqual(['read', 'read', 'unchanged']);

    token = 'b'; // a write moved the token: read again
    now = 400;
    const changed = await reads.get('k', load, check);
    expect(calls.slice(3)).toEqual(['check', 'load']);
    expect([changed.value, changed.version === first.version]).toEqual([2, false]);

    now = 1_000; // the same token, but a bucket of the range may have expired since the check: read again
    value = 3;
    validUntil = 5_000; // (what this new check vouches for)
    const expired = await reads.get('k', load, check);
    expect(calls.slice(5)).toEqual(['check', 'load']);
    expect(expired.value).toBe(3);
    now = 1_200; // within the new check's validUntil: renewed
    value = 4;
    expect((await reads.get('k', load, check)).value).toBe(3);
    expect(calls.slice(7)).toEqual(['check']);
  });

  it('reads of the same range share one content check, and a read renewed by it is as old as the check', async () => {
    let now = 0;
    let checks = 0;
    let failNext = false;
    const reads = new FreshReads<string>(100, () => now);
    const check = () => {
      checks++;
      if (failNext) return ((failNext = false), Promise.reject(new Error('redis down')));
      return Promise.resolve({ token: 't', validUntil: 10_000 });
    };
    const rows = () => reads.get('rows', () => Promise.resolve('r'), check, 'q');
    const sketches = () => reads.get('sketches', () => Promise.resolve('s'), check, 'q');
    const other = () => reads.get('other', () => Promise.resolve('o'), check, 'q2');
    await Promise.all([rows(), sketches(), other()]);
    expect(checks).toBe(2); // one for 'q', one for 'q2'

    now = 200; // both of 'q' past the bound: one check renews both
    await rows();
    now = 220; // a refresh within a quarter of the bound (25 ms) joins the check taken at 200
    const joined = await sketches();
    expect(checks).toBe(3);
    expect([joined.value, joined.readAt]).toEqual(['s', 200]); // current as of the check, not as of 220

    now = 400;
    await rows();
    now = 430; // more than a quarter of the bound later: its own check
    expect((await sketches()).readAt).toBe(430);
    expect(checks).toBe(5);

    now = 600; // a failed check is not shared: the next read takes its own
    failNext = true;
    await expect(rows()).rejects.toThrow('redis down');
    expect((await sketches()).value).toBe('s');
    expect(checks).toBe(7);
  });

  it("ServingCache keys a shared check by the range it covers: a totals answer's rows and sketches queries differ in keep and share one", async () => {
    const cache = new ServingCache({ cacheBytes: 1 << 20, speedMaxStaleMs: 100 }, null, () => 0);
    let checks = 0;
    const check = () => (checks++, Promise.resolve({ token: 't', validUntil: 10_000 }));
    const rows = { view: 'pageviews', granularity: 'hour' as const, filter: {}, keep: ['url'], maxRows: 10, from: 0, to: 3_600_000 };
    const sketches = { view: 'pageviews', granularity: 'hour' as const, filter: {}, maxRows: 10, from: 0, to: 3_600_000 };
    await Promise.all([cache.speedRead('rows', () => Promise.resolve(1), check, rows), cache.speedRead('sketches', () => Promise.resolve(2), check, sketches)]);
    expect(checks).toBe(1);
    await cache.speedRead('other', () => Promise.resolve(3), check, { ...sketches, to: 7_200_000 }); // another range: its own
    expect(checks).toBe(2);
  });

  it('does not remember a failed read', async () => {
    const reads = new FreshReads<number>(1_000, () => 0);
    await expect(reads.get('k', () => Promise.reject(new Error('redis down')))).rejects.toThrow('redis down');
    expect((await reads.get('k', () => Promise.resolve(7))).value).toBe(7);
  });
});

describe('sameValue', () => {
  it('compares what speed reads hold: nested arrays, objects, Maps and byte buffers', () => {
    const a = { rows: [{ dims: ['/a', null], values: { v: 1 } }], m: new Map([['x', [Buffer.from([0, 1])]]]) };
    expect(sameValue(a, structuredClone(a))).toBe(true);
    expect(sameValue(a, { ...a, rows: [{ dims: ['/a', null], values: { v: 2 } }] })).toBe(false);
    expect(sameValue(a, { ...a, rows: [{ dims: ['/a', 'null'], values: { v: 1 } }] })).toBe(false);
    expect(sameValue(a, { ...a, m: new Map([['x', [Buffer.from([0, 2])]]]) })).toBe(false);
    expect(sameValue(a, { ...a, m: new Map([['y', [Buffer.from([0, 1])]]]) })).toBe(false);
    expect(sameValue({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameValue([1, 2], [1, 2, 3])).toBe(false);
    expect(sameValue(Buffer.from([1]), [1])).toBe(false);
    expect(sameValue(NaN, NaN)).toBe(true);
  });
});

const views = defaultViewSet();
const view = views.byName.pageviews!;
const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);

/** A published run with one batch bucket (T0, /a) and its watermark at T0+5h. */
function oneBucketRun(): FakeBatchStore {
  const batch = new FakeBatchStore(views);
  batch.publish(runInfo('run-1', T0 + 5 * H), [{ view: 'pageviews', granularity: 'hour', bucketStart: T0, dims: ['/a'], values: { views: 3, visitors: 2 } }]);
  return batch;
}

/** The speed layer's row of bucket T0+8h, /a. */
function speedRow(views: number) {
  return {
    view: 'pageviews',
    granularity: 'hour' as const,
    bucketStart: T0 + 8 * H,
    dims: ['/a'],
    values: { views, visitors: 1 },
    late: 0,
    duplicates: 0,
    unchecked: 0,
  };
}

/** The whole-answer lookups counted so far, by outcome: "hit=1 miss=1". */
async function answerLookups(metrics: ReturnType<typeof createMetrics>): Promise<string> {
  return (await metrics.serving.cacheLookups.get()).values
    .filter((v) => v.labels.part === 'answer')
    .map((v) => `${v.labels.outcome}=${v.value}`)
    .sort()
    .join(' ');
}

describe('cached totals: reused while the speed layer is unchanged (issue 16)', () => {
  it('a refresh that reads the same content serves the same answer; new content or a newly incomplete bucket rebuilds it', async () => {
    let now = T0 + 10 * H;
    const batch = oneBucketRun();
    // The speed layer keeps 4.5 hours: the bucket of T0+8h is past its retention once the clock is at T0+14h.
    const speed = new FakeSpeedStore(views, 4.5 * H);
    const ctx = { views, batch, speed, now: () => now };
    speed.rows = [speedRow(4)];
    const metrics = createMetrics();
    const cache = new ServingCache({ cacheBytes: 1 << 20, speedMaxStaleMs: 200 }, metrics.serving, () => now);
    const lookups = () => answerLookups(metrics);
    const rq = resolveQuery(view, rangeQuery.parse({ granularity: 'hour', from: String(T0), to: String(T0 + 10 * H), measures: 'views' }), now);
    const totals = async () => (await cachedTotalsAnswer(ctx, cache, view, rq)).body;
    const first = await totals();
    expect((JSON.parse(first.body.toString()) as { totals: { values: { views: number } }[] }).totals[0]?.values.views).toBe(7);

    now += 1_000; // past the bound: every speed read is done again, and brings back the same content
    expect(await totals()).toBe(first);
    expect(await lookups()).toBe('hit=1 miss=1');

    // A running speed layer's status differs at every read (each report's age, the event-time lag,
    // an offset moved past records that changed no view); the answer shows only its coverage, so
    // it is still reused.
    speed.offsets = [{ partition: 0, offset: 41 }];
    now += 1_000;
    expect(await totals()).toBe(first);
    expect(await lookups()).toBe('hit=2 miss=1');

    speed.rows = [speedRow(9)];
    now += 1_000; // new content: a new answer, with another entity tag
    const changed = await totals();
    expect((JSON.parse(changed.body.toString()) as { totals: { values: { views: number } }[] }).totals[0]?.values.views).toBe(12);
    expect(changed.etag).not.toBe(first.etag);
    expect(await lookups()).toBe('hit=2 miss=1 stale=1');

    now = T0 + 14 * H; // the same content, but the speed bucket has become incomplete (retention): rebuilt
    const later = await totals();
    expect(later).not.toBe(changed);
    const incomplete = (body: { body: Buffer }) =>
      (JSON.parse(body.body.toString()) as { incomplete: { bucketStart: number }[] }).incomplete.map((i) => i.bucketStart);
    expect(incomplete(changed)).toEqual([]);
    expect(incomplete(later)).toContain(T0 + 8 * H);
    expect(await lookups()).toBe('hit=2 miss=1 stale=2');

    speed.coveredSince = 1; // a new coverage, which the answer shows: rebuilt
    now += 1_000;
    const covered = await totals();
    expect((JSON.parse(covered.body.toString()) as { speed: { coveredSince: number } }).speed.coveredSince).toBe(1);
    expect(incomplete(covered)).toEqual(incomplete(later));
    expect(await lookups()).toBe('hit=2 miss=1 stale=3');
  });
});

describe('cached series: staleness', () => {
  it('serves the speed part read within the bound, states when it was read, and reads again after it', async () => {
    let now = T0 + 10 * H;
    const batch = oneBucketRun();
    const ctx = { ...fakeContext(views, now, batch), now: () => now };
    let statusReads = 0;
    const status = ctx.speed.status.bind(ctx.speed);
    ctx.speed.status = () => (statusReads++, status());
    ctx.speed.rows = [speedRow(4)];
    const metrics = createMetrics();
    const cache = new ServingCache({ cacheBytes: 1 << 20, speedMaxStaleMs: 200 }, metrics.serving, () => now);
    const lookups = () => answerLookups(metrics);
    const rq = resolveQuery(view, rangeQuery.parse({ granularity: 'hour', from: String(T0), to: String(T0 + 10 * H) }), now);
    const parse = async () =>
      JSON.parse((await cachedSeriesAnswer(ctx, cache, view, rq)).body.body.toString()) as {
        speed: { readAt: number };
        buckets: { start: number; groups: { values: { views: number } }[] }[];
      };
    const first = await parse();
    expect(first.speed.readAt).toBe(T0 + 10 * H);
    expect(first.buckets.find((b) => b.start === T0 + 8 * H)?.groups[0]?.values.views).toBe(4);

    ctx.speed.rows = [speedRow(9)];
    now += 50; // a quarter of the bound: the read of 50 ms ago, and the answer says so
    const within = await parse();
    expect(within.buckets.find((b) => b.start === T0 + 8 * H)?.groups[0]?.values.views).toBe(4);
    expect(within.speed.readAt).toBe(T0 + 10 * H);
    expect(statusReads).toBe(1);

    now += 200; // 250 ms after the read: past the bound, read again
    const after = await parse();
    expect(after.buckets.find((b) => b.start === T0 + 8 * H)?.groups[0]?.values.views).toBe(9);
    expect(after.speed.readAt).toBe(T0 + 10 * H + 250);
    expect(statusReads).toBe(2);
    // The whole answer: built once, served once as it was, then kept but built from old reads.
    expect(await lookups()).toBe('hit=1 miss=1 stale=1');
    expect((await metrics.serving.cacheEntries.get()).values[0]?.value).toBe(2); // the answer and its batch part
  });
});

describe('ServingCache.computeOnce', () => {
  it('requests for the same answer from the same inputs share one computation; other inputs, or a later request, start their own', async () => {
    const cache = new ServingCache({ cacheBytes: 1024, speedMaxStaleMs: 0 }, null, () => 0);
    const readA = { value: 1 };
    const readB = { value: 1 };
    let computed = 0;
    let release = () => undefined as void;
    const gate = new Promise<void>((r) => (release = r));
    const compute = async () => {
      computed++;
      await gate;
      return computed;
    };
    const first = cache.computeOnce('k', ['run-1', readA], compute);
    const joined = cache.computeOnce('k', ['run-1', readA], compute);
    // An equal-looking but different read (a newer generation) is another input: its own computation.
    const other = cache.computeOnce('k', ['run-1', readB], compute);
    expect(computed).toBe(2);
    release();
    expect(await first).toBe(await joined);
    await other;
    await cache.computeOnce('k', ['run-1', readB], compute);
    expect(computed).toBe(3);
  });
});
