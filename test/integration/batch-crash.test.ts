/**
 * A batch process killed (SIGKILL) in the middle of a run: the previously published run is still
 * served, intact, by an open reader and by a fresh one; the next run takes over the dead run's
 * lease at once, removes what the crash left behind and publishes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalMasterDataset } from '../../adapters/master/index.js';
import { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import { runWiredBatch } from '../../cli/batch-wiring.js';
import { loadConfig } from '../../platform/config.js';
import { silentLogger } from '../../platform/logger.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { clickstreamLines, expectRunEqualsReference, T0, writeCheckpoints, writeSegments } from '../support/batch-master.js';
import { batchEnv, spawnBatch } from '../support/batch-child.js';
import { testContext, type TestContext } from '../support/context.js';
import { waitUntil } from '../support/wait.js';

describe('batch run killed mid-run', () => {
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

  it('keeps serving the previous run, and the next run succeeds', async () => {
    const { config } = ctx;
    const topic = config.kafka.topic;
    const master = new LocalMasterDataset(fileURLToPath(config.masterUrl));
    const all = clickstreamLines(4000);
    const first = all.slice(0, 2000);
    await writeSegments(master, first, { topic, files: 4, partitions: config.kafka.partitions });
    await writeCheckpoints(master, topic, config.kafka.partitions, T0 + 3_600_000);
    const run1 = await runWiredBatch({ config, views, master, log: silentLogger() });

    const openReader = new SqliteBatchViewStore(config.batch.dir);
    stores.push(openReader);
    const before = expectRunEqualsReference(openReader.openRun(), views, first);

    // More data, so a run that got through would change the served values.
    await writeSegments(master, all.slice(2000), { topic, files: 8, partitions: config.kafka.partitions, arrivalTs: T0 + 2 * 3_600_000 });
    const slow = loadConfig({ ...batchEnv(config), LAMBDA_BATCH_FILE_DELAY_MS: '400' }, process.cwd());
    const child = spawnBatch('run', batchEnv(slow));
    const running = await waitUntil(
      () => openReader.runningRun(),
      (l) => l !== null && l.runId !== run1.runId && l.progress?.phase === 'map' && l.progress.filesDone >= 1,
      { what: `the child batch run to be in its map phase\n${child.output()}`, timeoutMs: 60_000, intervalMs: 20 },
    );
    child.child.kill('SIGKILL');
    expect(await child.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(running?.progress?.filesDone).toBeLessThan(12);

    // The open reader and a fresh one both serve run 1, unchanged.
    const fresh = new SqliteBatchViewStore(config.batch.dir);
    stores.push(fresh);
    for (const store of [openReader, fresh]) {
      expect(store.latestRun()?.runId).toBe(run1.runId);
      expect(expectRunEqualsReference(store.openRun(), views, first)).toBe(before);
    }
    // The dead run's lease is still in the catalog (nobody released it) ...
    expect(fresh.runningRun()?.runId).toBe(running?.runId);
    // ... and what a crash during the write would leave: a temp file and an unpublished file.
    const runsDir = join(config.batch.dir, 'runs');
    writeFileSync(join(runsDir, `${running?.runId}.sqlite.tmp`), 'half a database');
    writeFileSync(join(runsDir, 'x-unpublished.sqlite'), 'renamed but never published');

    const run2 = await runWiredBatch({ config, views, master, log: silentLogger() });
    expect(run2.counts.files).toBe(12);
    for (const store of [openReader, fresh]) {
      expect(store.latestRun()?.runId).toBe(run2.runId);
      expectRunEqualsReference(store.openRun(), views, all);
    }
    expect(readdirSync(runsDir).sort()).toEqual([`${run1.runId}.sqlite`, `${run2.runId}.sqlite`].sort());
    expect(existsSync(join(runsDir, `${running?.runId}.sqlite.tmp`))).toBe(false);
    expect(fresh.runningRun()).toBeNull();
  });
});
