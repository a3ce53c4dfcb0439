/**
 * Never two batch runs at once: two calls in one process, and a run in another process, get
 * BATCH_RUNNING (with the running run's id, start and progress) while exactly one run goes on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { LocalMasterDataset } from '../../adapters/master/index.js';
import { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import { BatchLayer } from '../../batch-layer/batch-layer.js';
import { batchRunPorts } from '../../cli/batch-wiring.js';
import { loadConfig, type Config } from '../../platform/config.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import { isLambdaError, type LambdaError } from '../../shared/errors.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { clickstreamLines, T0, writeCheckpoints, writeSegments } from '../support/batch-master.js';
import { batchEnv, spawnBatch } from '../support/batch-child.js';
import { testContext, type TestContext } from '../support/context.js';
import { waitUntil } from '../support/wait.js';

function layerFor(config: Config): BatchLayer {
  const master = new LocalMasterDataset(fileURLToPath(config.masterUrl));
  return new BatchLayer({
    config,
    views: defaultViewSet(),
    master,
    log: silentLogger(),
    metrics: createMetrics(),
    ports: batchRunPorts(config, silentLogger()),
    schedule: false,
  });
}

function rejection(r: PromiseSettledResult<unknown>): LambdaError {
  if (r.status !== 'rejected' || !isLambdaError(r.reason)) throw new Error(`expected a LambdaError rejection, got ${JSON.stringify(r)}`);
  return r.reason;
}

describe('batch lease', () => {
  let ctx: TestContext;
  let store: SqliteBatchViewStore;

  beforeAll(async () => {
    ctx = testContext({ LAMBDA_BATCH_WORKERS: '2' });
    const master = new LocalMasterDataset(fileURLToPath(ctx.config.masterUrl));
    await writeSegments(master, clickstreamLines(1200), { topic: ctx.config.kafka.topic, files: 6, partitions: ctx.config.kafka.partitions });
    await writeCheckpoints(master, ctx.config.kafka.topic, ctx.config.kafka.partitions, T0 + 3_600_000);
    store = new SqliteBatchViewStore(ctx.config.batch.dir);
  });
  afterAll(() => {
    store?.close();
    ctx.cleanup();
  });

  it('two calls in one process: exactly one runs, the other gets BATCH_RUNNING', async () => {
    const layer = layerFor(ctx.config);
    await layer.start();
    const results = await Promise.allSettled([layer.runNow(), layer.runNow()]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    const winner = (ok[0] as PromiseFulfilledResult<{ runId: string; startedAt: number }>).value;
    const err = rejection(results.find((r) => r.status === 'rejected') as PromiseSettledResult<unknown>);
    expect(err.code).toBe('BATCH_RUNNING');
    expect(err.retriable).toBe(true);
    expect(err.details).toMatchObject({ runId: winner.runId, startedAt: winner.startedAt });
    expect(store.runs().map((r) => r.runId)).toEqual([winner.runId]);
    expect(layer.status().running).toBeNull();
    await layer.stop();
  });

  it('a run in another process: this process and a third one are refused while it runs', async () => {
    const slow = loadConfig({ ...batchEnv(ctx.config), LAMBDA_BATCH_FILE_DELAY_MS: '1500' }, process.cwd());
    const child = spawnBatch('run', batchEnv(slow));
    const lease = await waitUntil(
      () => store.runningRun(),
      (l) => l !== null && l.progress?.phase === 'map',
      { what: 'the child batch run to hold the lease', timeoutMs: 60_000, intervalMs: 20 },
    );
    expect(lease?.pid).toBe(child.child.pid);

    const layer = layerFor(ctx.config);
    await layer.start();
    const [mine] = await Promise.allSettled([layer.runNow()]);
    const err = rejection(mine as PromiseSettledResult<unknown>);
    expect(err.code).toBe('BATCH_RUNNING');
    expect(err.details).toMatchObject({ runId: lease?.runId, startedAt: lease?.startedAt, pid: child.child.pid });
    expect(err.details?.progress).toMatchObject({ phase: 'map', filesTotal: 6 });
    expect(layer.status().running).toMatchObject({ runId: lease?.runId, inThisProcess: false });

    const third = spawnBatch('run', batchEnv(ctx.config));
    expect((await third.exited).code, third.output()).toBe(75);

    expect((await child.exited).code, child.output()).toBe(0);
    expect(store.latestRun()?.runId).toBe(lease?.runId);
    // The lease is free again: the next run goes through.
    const next = await layer.runNow();
    expect(store.latestRun()?.runId).toBe(next.runId);
    await layer.stop();
  });
});
