/**
 * The spark engine on a real Spark standalone cluster (issue 17): LAMBDA_SPARK_MASTER=spark://...
 * pointing at the project's own master + worker (scripts/spark.sh, the Maven jars, no
 * distribution), client mode: the driver on this machine, the job's tasks in the worker's
 * executor. The run file equals the reference engine's on hostile records, and the master lists
 * the driver's application as completed, so the test cannot pass in local mode. Small on purpose:
 * the worker has one core and the machine two.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalMasterDataset } from '../../adapters/master/index.js';
import { SparkBatchEngine } from '../../adapters/spark/spark-engine.js';
import { createBatchEngine, referenceEngine } from '../../cli/batch-engines.js';
import { runWiredBatch } from '../../cli/batch-wiring.js';
import { silentLogger } from '../../platform/logger.js';
import { loadViews } from '../../shared/views/load.js';
import { T0, writeCheckpoints, writeSegments } from '../support/batch-master.js';
import { HOSTILE_VIEWS_JSON, hostileStream } from '../support/hostile-lines.js';
import { testContext, type TestContext } from '../support/context.js';
import { runFileContent } from '../support/run-file-content.js';
import { waitUntil } from '../support/wait.js';
import { completedApps, startSparkStandalone, type SparkStandalone } from '../support/spark-standalone.js';

describe('spark engine on a standalone cluster (spark://)', () => {
  let cluster: SparkStandalone;
  let ctx: TestContext;

  beforeAll(async () => {
    cluster = await startSparkStandalone();
    ctx = testContext({ LAMBDA_BATCH_ENGINE: 'spark', LAMBDA_SPARK_MASTER: cluster.master, LAMBDA_BATCH_WORKERS: '1', LAMBDA_TOPIC_PARTITIONS: '2' });
  }, 300_000);
  afterAll(async () => {
    ctx?.cleanup();
    await cluster?.stop();
  }, 120_000);

  it('publishes the run file the reference engine publishes, computed by the cluster', async () => {
    const { config } = ctx;
    expect(config.batch.sparkMaster).toMatch(/^spark:\/\/127\.0\.0\.1:\d+$/);
    const views = loadViews(HOSTILE_VIEWS_JSON, 'differential views');
    const lines = hostileStream(600);
    const master = new LocalMasterDataset(fileURLToPath(config.masterUrl));
    await writeSegments(master, lines, { topic: config.kafka.topic, files: 4, partitions: 2 });
    await writeCheckpoints(master, config.kafka.topic, 2, T0 + 3 * 86_400_000);

    const ref = await runWiredBatch({ config, views, master, log: silentLogger(), engine: referenceEngine(config) });
    // The engine LAMBDA_BATCH_ENGINE / LAMBDA_SPARK_MASTER give, as the service builds it.
    const spark = await createBatchEngine(config);
    expect(spark).toBeInstanceOf(SparkBatchEngine);
    const run = await runWiredBatch({ config, views, master, log: silentLogger(), engine: spark });
    expect(run.engine).toBe('spark');
    expect(ref.counts.eventsRead).toBe(lines.length);
    expect(run.counts).toEqual(ref.counts);
    const a = runFileContent(join(config.batch.dir, 'runs', `${ref.runId}.sqlite`));
    const b = runFileContent(join(config.batch.dir, 'runs', `${run.runId}.sqlite`));
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const key of Object.keys(a)) expect(b[key], `run file table ${key}`).toEqual(a[key]);

    // It ran on the cluster: the driver's application id is a standalone one, and the master
    // lists it as finished (a local[*] run is `local-...` and unknown to the master).
    const app = (spark as SparkBatchEngine).lastApp;
    expect(app?.master).toBe(cluster.master);
    expect(app?.id).toMatch(/^app-/);
    // (The driver's goodbye to the master is one-way: the master may file it a moment later.)
    const done = await waitUntil(
      async () => (await completedApps(cluster.ui)).find((f) => f.id === app?.id),
      (f) => f !== undefined,
      { what: `application ${String(app?.id)} among the master's completed ones`, timeoutMs: 30_000 },
    );
    expect(done).toMatchObject({ name: 'lambda-arch batch', state: 'FINISHED' });
  }, 400_000);
});
