/**
 * Publishing and keeping runs: only the newest K run files stay, readers follow the published
 * pointer (and keep older kept runs readable for batch-to-batch drift), a run without checkpoints
 * claims no watermark, and a run over the dedupe budget fails loudly leaving the served run alone.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalMasterDataset } from '../../adapters/master/index.js';
import { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import { runBatch, type RunBatchDeps } from '../../batch-layer/run/run-batch.js';
import { batchRunPorts } from '../../cli/batch-wiring.js';
import { NO_WATERMARK } from '../../batch-layer/run/watermark.js';
import type { MasterFile } from '../../shared/ports.js';
import type { Config } from '../../platform/config.js';
import { silentLogger } from '../../platform/logger.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { clickstreamLines, expectRunEqualsReference, T0, writeCheckpoints, writeSegments } from '../support/batch-master.js';
import { testContext, type TestContext } from '../support/context.js';

describe('batch publish', () => {
  let ctx: TestContext;
  let master: LocalMasterDataset;
  let store: SqliteBatchViewStore | undefined;
  const views = defaultViewSet();
  const deps = (config: Config): RunBatchDeps => ({ config, views, master, log: silentLogger(), ports: batchRunPorts(config, silentLogger()) });

  beforeEach(() => {
    ctx = testContext({ LAMBDA_BATCH_WORKERS: '1', LAMBDA_BATCH_KEEP_RUNS: '2' });
    master = new LocalMasterDataset(fileURLToPath(ctx.config.masterUrl));
  });
  afterEach(() => {
    store?.close();
    store = undefined;
    ctx.cleanup();
  });

  it('keeps the newest K runs; readers follow the pointer and can read every kept run', async () => {
    const { config } = ctx;
    const lines = clickstreamLines(1600);
    store = new SqliteBatchViewStore(config.batch.dir);
    expect(store.latestRun()).toBeNull();
    expect(() => store?.openRun()).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));

    const runIds: string[] = [];
    for (let i = 0; i < 4; i++) {
      // Each run sees 400 more lines, so consecutive runs differ.
      await writeSegments(master, lines.slice(i * 400, (i + 1) * 400), { topic: config.kafka.topic, files: 2, partitions: 1, arrivalTs: T0 + i * 3_600_000 });
      runIds.push((await runBatch(deps(config))).runId);
      expect(store.latestRun()?.runId).toBe(runIds[i]);
      expectRunEqualsReference(store.openRun(), views, lines.slice(0, (i + 1) * 400));
    }
    const kept = runIds.slice(2).reverse();
    expect(store.runs().map((r) => r.runId)).toEqual(kept);
    expect(readdirSync(join(config.batch.dir, 'runs')).sort()).toEqual(kept.map((id) => `${id}.sqlite`).sort());
    // The previous kept run is still readable with its own values (batch-to-batch drift).
    expectRunEqualsReference(store.openRun(runIds[2]), views, lines.slice(0, 1200));
    expect(() => store?.openRun(runIds[0])).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    // The record in the catalog has every timing once published.
    const t = store.latestRun()?.timings;
    expect([t?.snapshotMs, t?.mapMs, t?.mergeMs, t?.writeMs, t?.publishMs, t?.totalMs].every((v) => typeof v === 'number')).toBe(true);
  });

  it('without checkpoints the run is published with no watermark (W = 0: everything is served by speed)', async () => {
    await writeSegments(master, clickstreamLines(300), { topic: ctx.config.kafka.topic, files: 1 });
    const run = await runBatch(deps(ctx.config));
    expect(run.arrivalComplete).toBeNull();
    expect(run.watermark).toBe(NO_WATERMARK);
    // One partition without a checkpoint is enough to make A unknown.
    await writeCheckpoints(master, ctx.config.kafka.topic, 1, T0 + 3_600_000);
    expect(ctx.config.kafka.partitions).toBe(2);
    expect((await runBatch(deps(ctx.config))).watermark).toBe(NO_WATERMARK);
    await writeCheckpoints(master, ctx.config.kafka.topic, 2, T0 + 3_600_000);
    expect((await runBatch(deps(ctx.config))).watermark).toBe(T0 + 3_600_000 - 60_000);
  });

  it('an empty master dataset publishes an empty run', async () => {
    const run = await runBatch(deps(ctx.config));
    expect(run.counts).toMatchObject({ files: 0, eventsRead: 0, groups: 0, duplicates: 0 });
    store = new SqliteBatchViewStore(ctx.config.batch.dir);
    expect(store.series({ view: 'pageviews', granularity: 'hour', from: 0, to: T0 })).toEqual([]);
  });

  it('a corrupt master file fails the run loudly (never skipped), and the served run stays', async () => {
    const { config } = ctx;
    const files = await writeSegments(master, clickstreamLines(600), { topic: config.kafka.topic, files: 3 });
    const good = await runBatch(deps(config));
    writeFileSync(join(fileURLToPath(config.masterUrl), (files[1] as MasterFile).key), 'this is not gzip');
    await expect(runBatch(deps(config))).rejects.toMatchObject({ code: 'STORAGE', message: expect.stringContaining((files[1] as MasterFile).key) });
    store = new SqliteBatchViewStore(config.batch.dir);
    expect(store.latestRun()?.runId).toBe(good.runId);
    expect(store.lastFailure()).toMatchObject({ code: 'STORAGE' });
    expect(readdirSync(join(config.batch.dir, 'runs'))).toEqual([`${good.runId}.sqlite`]);
  });

  // The reference engine's id budget; the duckdb engine has none (DuckDB spills past its memory
  // limit instead: docs/design-decisions.md, "Batch engines"), so the same run succeeds on it.
  it('fails with DEDUPE_BUDGET_EXCEEDED past the budget on the reference engine, the served run stays, and the duckdb engine has no such budget', async () => {
    const { config } = ctx;
    await writeSegments(master, clickstreamLines(900), { topic: config.kafka.topic, files: 3 });
    const good = await runBatch(deps(config));
    await writeSegments(master, clickstreamLines(1500, { seed: 8 }), { topic: config.kafka.topic, files: 3, arrivalTs: T0 + 3_600_000 });
    const tight: Config = { ...config, batch: { ...config.batch, engine: 'reference', dedupeMaxIds: 1000 } };
    const failure = runBatch(deps(tight));
    await expect(failure).rejects.toMatchObject({ code: 'DEDUPE_BUDGET_EXCEEDED', details: { setting: 'LAMBDA_BATCH_DEDUPE_MAX_IDS', maxIds: 1000 } });
    await expect(failure).rejects.toThrow(/LAMBDA_BATCH_DEDUPE_MAX_IDS/);
    store = new SqliteBatchViewStore(config.batch.dir);
    expect(store.latestRun()?.runId).toBe(good.runId);
    expect(store.lastFailure()).toMatchObject({ code: 'DEDUPE_BUDGET_EXCEEDED' });
    expect(readdirSync(join(config.batch.dir, 'runs'))).toEqual([`${good.runId}.sqlite`]);
    expect(store.runningRun()).toBeNull();
    store.close();
    store = undefined;

    const unbounded = await runBatch(deps({ ...config, batch: { ...config.batch, engine: 'duckdb', dedupeMaxIds: 1000 } }));
    expect(unbounded.engine).toBe('duckdb');
    expect(unbounded.counts.eventsKept).toBeGreaterThan(1000);
  });
});
