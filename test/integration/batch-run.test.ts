/**
 * A batch run over a real master dataset (gzip JSONL files) with two worker threads equals the
 * reference fold: every view, every granularity, counts, sums, min/max and exact distinct, with
 * duplicates inside a file and across files (handled by different workers) and invalid lines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalMasterDataset } from '../../adapters/master/index.js';
import { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import { runWiredBatch } from '../../cli/batch-wiring.js';
import { silentLogger } from '../../platform/logger.js';
import { parseEventLine } from '../../shared/events.js';
import { validDeduped } from '../../shared/reference-fold.js';
import { DEFAULT_VIEWS_JSON } from '../../shared/views/default-views.js';
import { loadViews } from '../../shared/views/load.js';
import { clickstreamLines, expectRunEqualsReference, T0, writeCheckpoints, writeSegments } from '../support/batch-master.js';
import { testContext, type TestContext } from '../support/context.js';

// One more view than the default set: min, max, sum at 3 decimals, two dimensions (one often
// missing), a distinct over a numeric-or-string field, and no filter.
const VIEWS_JSON = JSON.stringify({
  views: [
    ...(JSON.parse(DEFAULT_VIEWS_JSON) as { views: unknown[] }).views,
    {
      name: 'by_country_type',
      dimensions: ['country', 'type'],
      measures: {
        events: { type: 'count' },
        users: { type: 'distinct', field: 'user' },
        low: { type: 'min', field: 'amount', decimals: 3 },
        high: { type: 'max', field: 'amount', decimals: 3 },
        total: { type: 'sum', field: 'amount', decimals: 3 },
      },
      granularities: ['hour', 'day'],
    },
  ],
});

describe('batch run vs reference fold', () => {
  let ctx: TestContext;
  let store: SqliteBatchViewStore;
  const views = loadViews(VIEWS_JSON, 'batch-run.test views');
  const lines = clickstreamLines(6000);
  // Cross-file duplicates by construction: the first file's first lines again at the very end
  // (the last file is mapped by the other worker or much later), plus a duplicate inside a file.
  lines.push(...lines.slice(0, 50), lines[3000] as string);
  // Invalid lines of every kind the batch must count, not crash on.
  lines.push(
    '',
    'not json',
    '{"ts": 1}',
    '{"id": 5, "ts": 1}',
    '{"id": "x1"}',
    '{"id": "x2", "ts": "soon"}',
    '{"id":"x3","ts":1,"type":"purchase","amount":"9"}',
  );
  // Hostile lines (issue 14): each must add one to the bad_field count of the lines before them.
  const reasonOf = (line: string) => {
    const r = parseEventLine(line, views);
    return r.ok ? null : r.reason;
  };
  const badFieldBefore = lines.filter((l) => reasonOf(l) === 'bad_field').length;
  const HOSTILE = 4;
  lines.push(
    `{"id":"x4","ts":1,"type":"pageview","url":"/a","x":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    JSON.stringify({ id: 'x5', ts: 1, type: 'pageview', url: 'u'.repeat(500_000), user: 'u1' }),
    '{"id":"x6","ts":1,"type":"pageview","url":"/a","user":9007199254740993}',
    '{"id":"x7","ts":1,"type":"purchase","country":"DE","amount":1e400}',
  );

  beforeAll(() => {
    ctx = testContext({ LAMBDA_BATCH_WORKERS: '2', LAMBDA_TOPIC_PARTITIONS: '2' });
  });
  afterAll(() => {
    store?.close();
    ctx.cleanup();
  });

  it('publishes views equal to the reference, with exact counts', async () => {
    const master = new LocalMasterDataset(fileURLToPath(ctx.config.masterUrl));
    await writeSegments(master, lines, { topic: ctx.config.kafka.topic, files: 12, partitions: 2 });
    const A = T0 + 3_600_000 + 30_123;
    await writeCheckpoints(master, ctx.config.kafka.topic, 2, A);

    const record = await runWiredBatch({ config: ctx.config, views, master, log: silentLogger() });

    const invalid: Record<string, number> = {};
    for (const l of lines) {
      const r = parseEventLine(l, views);
      if (!r.ok) invalid[r.reason] = (invalid[r.reason] ?? 0) + 1;
    }
    const kept = validDeduped(lines, views).length;
    const invalidTotal = Object.values(invalid).reduce((a, b) => a + b, 0);
    expect(record.counts).toMatchObject({ files: 12, eventsRead: lines.length, invalid, eventsKept: kept, duplicatesDifferingPayload: 0 });
    expect(record.counts.invalid.bad_field).toBe(badFieldBefore + HOSTILE);
    expect(record.counts.duplicates).toBe(lines.length - invalidTotal - kept);
    expect(record.counts.duplicates).toBeGreaterThan(51);
    expect(record.workers).toBe(2);
    expect(record.arrivalComplete).toBe(A);
    expect(record.watermark).toBe(Math.floor((A - ctx.config.allowedLatenessMs) / 60_000) * 60_000);

    store = new SqliteBatchViewStore(ctx.config.batch.dir);
    expect(store.latestRun()).toEqual(record);
    const groups = expectRunEqualsReference(store.openRun(), views, lines);
    expect(groups).toBe(record.counts.groups);
    expect(store.openRun().invalidCounts()).toEqual(invalid);
    // Filtered series: one URL, and the missing-value group of a dimension.
    const url = lines.map((l) => parseEventLine(l, views)).find((r) => r.ok && r.event.body.type === 'pageview');
    const wanted = url?.ok ? (url.event.body.url as string) : '';
    const rows = store.series({ view: 'pageviews', granularity: 'hour', from: T0 - 86_400_000, to: T0 + 86_400_000, filter: { url: wanted } });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.dims[0] === wanted)).toBe(true);

    const runFiles = readdirSync(join(ctx.config.batch.dir, 'runs'));
    expect(runFiles).toEqual([`${record.runId}.sqlite`]);
    expect(existsSync(join(ctx.config.batch.dir, 'catalog.sqlite'))).toBe(true);
  });
});
