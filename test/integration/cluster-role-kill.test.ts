/**
 * Fault on the cluster topology (issue 18): one of two speed instances and one of two archivers,
 * each its own process, SIGKILLed mid-stream. The survivors take over the killed ones' partitions
 * (after the 6 s session timeout) and go on; the killed ones restart and rejoin. Nothing lost,
 * nothing applied twice: with speed dedupe off the views equal the reference fold, and the master
 * dataset holds every valid record exactly once in offset order.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { endOffsets } from '../../adapters/kafka/topics.js';
import { openMasterDataset } from '../../adapters/master/index.js';
import { silentLogger } from '../../platform/logger.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { produceAll, readWholeTopic } from '../support/archiver-kafka.js';
import { expectExactArchive } from '../support/archiver-expect.js';
import { spawnArchiver, type ArchiverProcess } from '../support/archiver-process.js';
import { clusterSkipReason } from '../support/cluster.js';
import { checkpointsCover } from '../support/master-read.js';
import {
  appliedCount,
  readAllViews,
  spawnSpeed,
  undedupedTruth,
  viewStore,
  waitCaughtUp,
  type SpeedProcess,
  expectEqualsReference,
} from '../support/speed-harness.js';
import { waitUntil } from '../support/wait.js';
import { clusterStream } from '../support/cluster-stream.js';

const views = defaultViewSet();
const skip = clusterSkipReason();
if (skip) console.warn(`cluster-role-kill.test.ts skipped: ${skip}`);

describe.skipIf(skip !== null)(`a speed instance and an archiver killed on the cluster${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const running = new Set<SpeedProcess | ArchiverProcess>();

  function track<P extends SpeedProcess | ArchiverProcess>(p: P): P {
    running.add(p);
    void p.exited.then(() => running.delete(p));
    return p;
  }

  const f = clusterStream({
    name: 'cluster-role-kill-test',
    seed: 1809,
    stop: async () => {
      const left = [...running];
      for (const p of left) p.child.kill('SIGTERM');
      await Promise.all(left.map((p) => p.exited));
    },
  });

  it('SIGKILL of one speed process and one archiver process mid-stream: every record applied and archived once', async () => {
    const { ctx, kafka, redis, records, before, during, after } = f;
    const k = ctx.config.kafka;
    const { keyPrefix } = ctx.config.redis;
    await f.createTopics();
    const speedLog = join(ctx.dataDir, 'speed.log');
    const archiverLog = join(ctx.dataDir, 'archiver.log');
    const speeds = [0, 1].map(() => track(spawnSpeed(ctx.config, speedLog)));
    const archivers = [0, 1].map(() => track(spawnArchiver(ctx.config, ctx.dataDir, archiverLog)));

    await produceAll(kafka, k.topic, before, 100);
    const appliedAtKill = await waitUntil(
      () => appliedCount(redis, keyPrefix, k.partitions),
      (n) => n > 0,
      {
        what: `the speed instances to apply the first records (see ${speedLog})`,
        timeoutMs: 90_000,
        intervalMs: 10,
      },
    );
    speeds[0]!.child.kill('SIGKILL');
    archivers[0]!.child.kill('SIGKILL');
    expect(await speeds[0]!.exited, 'the speed instance died by the signal').toBeNull();
    expect(await archivers[0]!.exited, 'the archiver died by the signal').toBeNull();
    expect(appliedAtKill).toBeLessThan(records.length);

    // The survivors take over every partition and go on.
    await produceAll(kafka, k.topic, during, 100);
    await waitUntil(
      () => appliedCount(redis, keyPrefix, k.partitions),
      (n) => n >= before.length + during.length,
      {
        what: `the surviving speed instance to apply everything produced so far (see ${speedLog})`,
        timeoutMs: 90_000,
        intervalMs: 200,
      },
    );

    track(spawnSpeed(ctx.config, speedLog));
    track(spawnArchiver(ctx.config, ctx.dataDir, archiverLog));
    await produceAll(kafka, k.topic, after, 100);

    const ends = await endOffsets(kafka, k.topic);
    expect([...ends.values()].reduce((a, b) => a + b, 0)).toBe(records.length);
    await waitCaughtUp(kafka, redis, ctx.config, 90_000);
    const master = openMasterDataset(ctx.config, silentLogger());
    await waitUntil(() => checkpointsCover(master, k.topic, ends), Boolean, {
      what: `archiver checkpoints covering the whole topic (see ${archiverLog})`,
      timeoutMs: 90_000,
    });

    const truth = undedupedTruth(
      records.map((r) => r.value),
      views,
    );
    const actual = await readAllViews(viewStore(redis, ctx.config, views), views);
    expectEqualsReference(actual, truth.lines, views);
    await expectExactArchive(master, k.topic, await readWholeTopic(kafka, k.topic), views);
  });
});
