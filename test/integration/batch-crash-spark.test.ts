/**
 * The spark engine's driver (a java process) killed (SIGKILL) in the middle of a batch run: the
 * run fails without publishing, the previously published run is still served intact, and the
 * next run on Spark publishes the whole master dataset, equal to the reference fold. And a run
 * aborted through its signal (shutdown, a lost lease) takes its driver down with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalMasterDataset } from '../../adapters/master/index.js';
import { SparkBatchEngine } from '../../adapters/spark/spark-engine.js';
import { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import { SPARK_HOME, referenceEngine } from '../../cli/batch-engines.js';
import { runWiredBatch } from '../../cli/batch-wiring.js';
import { silentLogger } from '../../platform/logger.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { clickstreamLines, expectRunEqualsReference, T0, writeCheckpoints, writeSegments } from '../support/batch-master.js';
import { testContext, type TestContext } from '../support/context.js';
import { waitUntil } from '../support/wait.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('spark batch run whose driver is killed mid-job', () => {
  let ctx: TestContext;
  const stores: SqliteBatchViewStore[] = [];
  const views = defaultViewSet();

  beforeAll(() => {
    ctx = testContext({ LAMBDA_BATCH_WORKERS: '2' });
  });
  afterAll(() => {
    for (const s of stores) s.close();
    ctx.cleanup();
  });

  it('keeps serving the previous run, and the next spark run succeeds', async () => {
    const { config } = ctx;
    const topic = config.kafka.topic;
    const master = new LocalMasterDataset(fileURLToPath(config.masterUrl));
    const all = clickstreamLines(3000);
    const first = all.slice(0, 1500);
    await writeSegments(master, first, { topic, files: 3, partitions: config.kafka.partitions });
    await writeCheckpoints(master, topic, config.kafka.partitions, T0 + 3_600_000);
    const run1 = await runWiredBatch({ config, views, master, log: silentLogger(), engine: referenceEngine(config) });
    const store = new SqliteBatchViewStore(config.batch.dir);
    stores.push(store);
    const before = expectRunEqualsReference(store.openRun(), views, first);

    // More data, so a run that got through would change the served values.
    await writeSegments(master, all.slice(1500), { topic, files: 3, partitions: config.kafka.partitions, arrivalTs: T0 + 2 * 3_600_000 });
    const workDir = join(config.batch.dir, 'spark');
    const engine = new SparkBatchEngine({ home: SPARK_HOME, master: 'local[2]', heapMb: 1024, threads: 2, workDir });
    const crashed = runWiredBatch({ config, views, master, log: silentLogger(), engine }).then(
      () => null,
      (err: unknown) => err as Error,
    );
    // Mid-job: the driver is up and Spark has started writing the first validation step.
    const pid = await waitUntil(
      () => (existsSync(join(workDir, 'tables')) ? engine.driverPid : null),
      (p) => p !== null,
      { what: 'the Spark driver to be running the job', timeoutMs: 120_000, intervalMs: 50 },
    );
    expect(store.runningRun()?.runId).not.toBe(run1.runId); // the new run is in flight
    expect(store.runningRun()).not.toBeNull();
    process.kill(pid as number, 'SIGKILL');
    const err = await crashed;
    expect(err?.message).toMatch(/the Spark driver exited/);
    expect(alive(pid as number)).toBe(false);

    // Run 1 is still the one served, unchanged.
    const fresh = new SqliteBatchViewStore(config.batch.dir);
    stores.push(fresh);
    for (const s of [store, fresh]) {
      expect(s.latestRun()?.runId).toBe(run1.runId);
      expect(expectRunEqualsReference(s.openRun(), views, first)).toBe(before);
    }
    expect(existsSync(workDir)).toBe(false); // the killed run's scratch is gone

    const run2 = await runWiredBatch({ config, views, master, log: silentLogger(), engine });
    expect(run2.engine).toBe('spark');
    expect(run2.counts.files).toBe(6);
    for (const s of [store, fresh]) {
      expect(s.latestRun()?.runId).toBe(run2.runId);
      expectRunEqualsReference(s.openRun(), views, all);
    }
  }, 300_000);

  it('kills the driver when the run is aborted (shutdown), and publishes nothing', async () => {
    const { config } = ctx;
    const master = new LocalMasterDataset(fileURLToPath(config.masterUrl));
    const store = new SqliteBatchViewStore(config.batch.dir);
    stores.push(store);
    const served = store.latestRun()?.runId;
    const workDir = join(config.batch.dir, 'spark');
    const engine = new SparkBatchEngine({ home: SPARK_HOME, master: 'local[2]', heapMb: 1024, threads: 2, workDir });
    const shutdown = new AbortController();
    const aborted = runWiredBatch({ config, views, master, log: silentLogger(), engine, signal: shutdown.signal }).then(
      () => null,
      (err: unknown) => err as Error,
    );
    const pid = await waitUntil(
      () => engine.driverPid,
      (p) => p !== null,
      { what: 'the Spark driver to start', timeoutMs: 60_000, intervalMs: 20 },
    );
    expect(alive(pid as number)).toBe(true);
    shutdown.abort(new Error('shutting down'));
    expect((await aborted)?.message).toMatch(/failed: shutting down$/); // the abort, not the killed driver's missing reply
    expect(alive(pid as number)).toBe(false);
    expect(store.latestRun()?.runId).toBe(served);
    expect(existsSync(workDir)).toBe(false);
  }, 120_000);
});
