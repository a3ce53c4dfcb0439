/**
 * The BatchLayer service: the cron schedule runs batches by itself, each run's watermark reaches
 * Redis and the metrics, status shows the run in flight and the last run, and stop() aborts a run
 * in flight without touching the published one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RedisClient } from '../../adapters/redis/scripts.js';
import { LocalMasterDataset } from '../../adapters/master/index.js';
import { createRedis } from '../../adapters/redis/client.js';
import { batchWatermarkKey } from '../../adapters/redis/keys.js';
import { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import { BatchLayer } from '../../batch-layer/batch-layer.js';
import { batchRunPorts, redisWatermarkPublisher } from '../../cli/batch-wiring.js';
import type { Config } from '../../platform/config.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics, type Metrics } from '../../platform/metrics.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { clickstreamLines, T0, writeCheckpoints, writeSegments } from '../support/batch-master.js';
import { testContext, type TestContext } from '../support/context.js';
import { waitUntil } from '../support/wait.js';

describe('batch layer service', () => {
  let ctx: TestContext;
  let redis: RedisClient;
  let store: SqliteBatchViewStore;

  function layer(config: Config, metrics: Metrics, schedule: boolean): BatchLayer {
    const master = new LocalMasterDataset(fileURLToPath(config.masterUrl));
    return new BatchLayer({
      config,
      views: defaultViewSet(),
      master,
      log: silentLogger(),
      metrics,
      ports: batchRunPorts(config, silentLogger()),
      publishWatermark: redisWatermarkPublisher(redis, config.redis.keyPrefix),
      schedule,
    });
  }

  beforeAll(async () => {
    // Every second (6-field cron), so the test sees the schedule fire without waiting minutes.
    ctx = testContext({ LAMBDA_BATCH_CRON: '* * * * * *', LAMBDA_BATCH_WORKERS: '1' });
    redis = createRedis(ctx.config.redis.url, silentLogger(), 'batch-layer-test');
    const master = new LocalMasterDataset(fileURLToPath(ctx.config.masterUrl));
    await writeSegments(master, clickstreamLines(1000), { topic: ctx.config.kafka.topic, files: 4, partitions: ctx.config.kafka.partitions });
    await writeCheckpoints(master, ctx.config.kafka.topic, ctx.config.kafka.partitions, T0 + 3_600_000);
    store = new SqliteBatchViewStore(ctx.config.batch.dir);
  });
  afterAll(async () => {
    store?.close();
    const keys = await redis.keys(`${ctx.config.redis.keyPrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    ctx.cleanup();
  });

  it('runs on its schedule, publishes W to Redis and to the metrics', async () => {
    const metrics = createMetrics();
    const batch = layer(ctx.config, metrics, true);
    await batch.start();
    expect(batch.status().schedule).toMatchObject({ cron: '* * * * * *', timezone: 'Etc/UTC' });
    const run = await waitUntil(
      () => store.latestRun(),
      (r) => r !== null,
      { what: 'a scheduled batch run', timeoutMs: 60_000 },
    );
    expect(batch.status().lastRun?.runId).toBe(run?.runId);
    await batch.stop();
    const W = T0 + 3_600_000 - 60_000;
    expect(run?.watermark).toBe(W);
    await waitUntil(
      () => redis.get(batchWatermarkKey(ctx.config.redis.keyPrefix)),
      (v) => v === String(W),
      { what: 'W in Redis' },
    );
    expect((await metrics.batch.watermark.get()).values[0]?.value).toBe(W / 1000);
    const runs = await metrics.batch.runs.get();
    expect(runs.values.find((v) => v.labels.outcome === 'success')?.value).toBeGreaterThanOrEqual(1);
    const invalid = await metrics.invalidEvents.get();
    expect(invalid.values.filter((v) => v.labels.layer === 'batch').reduce((s, v) => s + v.value, 0)).toBeGreaterThan(0);
  });

  it('stop() aborts a run in flight; the published run and the lease are left clean', async () => {
    const before = store.latestRun();
    expect(before).not.toBeNull();
    const slow: Config = { ...ctx.config, batch: { ...ctx.config.batch, fileDelayMs: 1000 } };
    const batch = layer(slow, createMetrics(), false);
    await batch.start();
    const running = batch.runNow();
    running.catch(() => undefined); // asserted below
    const status = await waitUntil(
      () => batch.status(),
      (s) => s.running?.progress?.phase === 'map',
      { what: 'the run to be mapping', timeoutMs: 30_000 },
    );
    expect(status.running).toMatchObject({ inThisProcess: true, progress: { filesTotal: 4 } });
    await batch.stop();
    await expect(running).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(store.latestRun()?.runId).toBe(before?.runId);
    expect(store.runningRun()).toBeNull();
    expect(store.lastFailure()).toMatchObject({ code: 'UNAVAILABLE', runId: status.running?.runId });
    expect(readdirSync(join(ctx.config.batch.dir, 'runs')).filter((f) => !f.endsWith('.sqlite'))).toEqual([]);
    await expect(batch.runNow()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
