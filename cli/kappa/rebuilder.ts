/**
 * The Kappa rebuild (issue 20; docs/design-decisions.md, "Lambda vs Kappa"), run inside the
 * serving process and started over HTTP (POST /api/v1/kappa/rebuilds), so the dashboard's button
 * and `lambda-arch kappa rebuild` (an API client, like the lab) drive the same code. It lives in
 * cli/ because it wires the speed layer to adapters (Kafka, Redis, the master dataset, the batch
 * run files), which no layer may import.
 *
 * One rebuild at a time per process: replay the log into a fresh prefix (replay.ts), name the
 * buckets whose records the log lost (lost-events.ts), compare with the batch run that was
 * published when the rebuild began (shared/kappa/compare.ts), delete the prefix.
 */
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { KappaRegistry } from '../../adapters/redis/kappa-registry.js';
import { kappaPrefix } from '../../adapters/redis/keys.js';
import type { RedisClient } from '../../adapters/redis/scripts.js';
import { RedisSpeedViewStore } from '../../adapters/redis/speed-view-store.js';
import type { Config } from '../../platform/config.js';
import type { Service } from '../../platform/lifecycle.js';
import type { Logger } from '../../platform/logger.js';
import { compareKappa, type KappaComparison } from '../../shared/kappa/compare.js';
import { lostOf } from '../../shared/kappa/lost-buckets.js';
import { LambdaError } from '../../shared/errors.js';
import type { BatchRunInfo, BatchViewStore, MasterDataset, SeriesQuery } from '../../shared/ports.js';
import type { TopicOffsets } from '../../shared/speed/ports.js';
import { floorTo } from '../../shared/time.js';
import type { ViewSet } from '../../shared/views/definition.js';
import type { KappaControl } from '../../serving-layer/deps.js';
import type { KappaRequest, KappaResult, KappaState } from '../../serving-layer/http/schemas/kappa.js';
import { readLostEvents } from './lost-events.js';
import { NO_RETENTION, replayLog } from './replay.js';

/** A registered rebuild without a heartbeat for this long belonged to a process that died. */
const STALE_MS = 60_000;
const HEARTBEAT_MS = 10_000;
/** Buckets listed per view and granularity (the rest are counted). */
const MAX_BUCKETS = 500;

export interface KappaRebuilderDeps {
  config: Config;
  views: ViewSet;
  log: Logger;
  kafka: Kafka;
  offsets: TopicOffsets;
  redis: RedisClient;
  batch: BatchViewStore;
  master: MasterDataset;
}

export class KappaRebuilder implements KappaControl {
  private current: KappaState = { state: 'idle', rebuildId: null, startedAt: null, finishedAt: null, phase: null, partitions: [], error: null, result: null };
  private running: Promise<void> | null = null;
  private stopping = false;
  private readonly log: Logger;

  constructor(private readonly d: KappaRebuilderDeps) {
    this.log = d.log.child({ component: 'kappa' });
  }

  async start(req: KappaRequest): Promise<{ rebuildId: string }> {
    if (this.running) throw new LambdaError('CONFLICT', `Kappa rebuild ${this.current.rebuildId} is still running (GET /api/v1/kappa/rebuilds)`);
    if (this.stopping) throw new LambdaError('UNAVAILABLE', 'the service is shutting down');
    const snapshot = this.d.batch.snapshot?.();
    const run = snapshot ? snapshot.run : this.d.batch.latestRun();
    if (run === null) {
      snapshot?.release();
      throw new LambdaError('UNAVAILABLE', 'no batch run is published yet: the rebuild is compared with one (POST /api/v1/batch/runs)');
    }
    const rebuildId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    this.current = { state: 'running', rebuildId, startedAt: Date.now(), finishedAt: null, phase: 'starting', partitions: [], error: null, result: null };
    const series = (q: SeriesQuery) => (snapshot ? snapshot.series(q) : this.d.batch.series(q, run.runId));
    this.running = this.rebuild(rebuildId, req, run, series)
      .then((result) => {
        this.current = { ...this.current, state: 'done', phase: null, finishedAt: Date.now(), result };
        this.log.info({ rebuildId, replayMs: result.rebuild.replayMs }, 'Kappa rebuild done');
      })
      .catch((err: unknown) => {
        this.current = { ...this.current, state: 'failed', phase: null, finishedAt: Date.now(), error: (err as Error).message };
        this.log.error({ err, rebuildId }, 'Kappa rebuild failed');
      })
      .finally(() => {
        snapshot?.release();
        this.running = null;
      });
    return { rebuildId };
  }

  state(): KappaState {
    return structuredClone(this.current);
  }

  /** Stops a running rebuild (its replay ends at the next check, its keys are deleted) and waits for it. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** The rebuilder as a service of the serving process: nothing to start, a rebuild to end on stop. */
  asService(): Service {
    return { name: 'kappa-rebuilder', start: async () => undefined, stop: () => this.stop() };
  }

  private async rebuild(
    id: string,
    req: KappaRequest,
    run: BatchRunInfo,
    batchSeries: (q: SeriesQuery) => ReturnType<BatchViewStore['series']>,
  ): Promise<KappaResult> {
    const { config, redis, views } = this.d;
    const registry = new KappaRegistry(redis, config.redis.keyPrefix);
    const stale = await registry.removeStale(STALE_MS);
    if (stale.length > 0) this.log.warn({ stale }, 'deleted the keys of Kappa rebuilds whose process died');
    await registry.heartbeat(id);
    let beating: Promise<void> = Promise.resolve();
    const beat = setInterval(() => {
      beating = registry.heartbeat(id).catch((err: unknown) => this.log.warn({ err }, 'Kappa heartbeat failed'));
    }, HEARTBEAT_MS);
    // No heartbeat may land after the registry entry is removed (it would be taken for a dead rebuild).
    const endHeartbeat = async () => {
      clearInterval(beat);
      await beating;
    };
    const prefix = kappaPrefix(config.redis.keyPrefix, id);
    const groupId = `${config.redis.keyPrefix}-kappa-${id}`;
    let keysDeleted = 0;
    let groupDeleted = false;
    try {
      this.current.phase = 'replaying';
      const t0 = Date.now();
      const parts = await replayLog({
        ...this.d,
        prefix,
        groupId,
        onProgress: (p) => {
          this.current.partitions = p.map((x) => ({ ...x }));
        },
        aborted: () => this.stopping,
      });
      const replayMs = Date.now() - t0;
      this.current.phase = 'comparing';
      const t1 = Date.now();
      const lost = await readLostEvents(this.d.master, config.kafka.topic, new Map(parts.map((p) => [p.partition, p.logStart])), views);
      const kappa = new RedisSpeedViewStore(redis, { prefix, views, retention: NO_RETENTION });
      const comparisons: KappaComparison[] = [];
      for (const view of views.views) {
        if (req.view !== undefined && view.name !== req.view) continue;
        for (const g of view.granularities) {
          if (req.granularity !== undefined && g !== req.granularity) continue;
          const boundary = floorTo(run.watermark, g);
          const q: SeriesQuery = { view: view.name, granularity: g, from: 0, to: boundary };
          const [kappaRows, newerEvents] = await Promise.all([
            kappa.series(q),
            run.snapshot ? kappa.lateClassAfter(q, run.snapshot.through) : Promise.resolve([]),
          ]);
          const newer = new Map<number, number>();
          for (const e of newerEvents) newer.set(e.bucketStart, (newer.get(e.bucketStart) ?? 0) + 1);
          comparisons.push(
            compareKappa({
              view,
              granularity: g,
              boundary,
              batchRows: batchSeries(q),
              kappaRows,
              lost: lostOf(lost.buckets, view.name, g),
              newer,
              maxBuckets: MAX_BUCKETS,
            }),
          );
        }
      }
      const compareMs = Date.now() - t1;
      this.current.phase = 'cleaning';
      await endHeartbeat();
      keysDeleted = await registry.release(id);
      await this.deleteGroup(groupId);
      groupDeleted = true;
      const timed = run as BatchRunInfo & { timings?: { totalMs?: number | null } };
      return {
        batchRun: {
          runId: run.runId,
          watermark: run.watermark,
          totalMs: timed.timings?.totalMs ?? run.finishedAt - run.startedAt,
          eventsRead: run.counts.eventsRead,
        },
        rebuild: { replayMs, compareMs, records: parts.reduce((n, p) => n + (p.target - p.logStart), 0), keysDeleted },
        lost: { partitions: lost.partitions, exact: lost.exact },
        comparisons,
      };
    } finally {
      await endHeartbeat();
      // On failure too: a rebuild never leaves its keys behind (a crash leaves them to the next one).
      if (keysDeleted === 0)
        await registry.release(id).catch((err: unknown) => this.log.warn({ err, prefix }, 'could not delete the Kappa keys (the next rebuild will)'));
      if (!groupDeleted) await this.deleteGroup(groupId);
    }
  }

  /** The rebuild's consumer group is of no further use (Kafka would drop it, empty, after its offsets' retention). */
  private async deleteGroup(groupId: string): Promise<void> {
    const admin = this.d.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([groupId]);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, groupId }, 'could not delete the Kappa consumer group');
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
