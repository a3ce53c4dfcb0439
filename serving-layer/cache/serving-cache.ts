/**
 * The serving cache (docs/design-decisions.md, "Serving cache"). Everything a batch run answers is
 * immutable while the run stays published, so it is computed once per (run, query) and kept as
 * ready bytes; the speed layer changes all the time, so its reads are shared and reused only
 * within a stated staleness bound. Whole answers are kept too, and reused while the run and the
 * speed reads they were built from are the same ones. One byte budget bounds all of it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Metrics } from '../../platform/metrics.js';
import type { BatchRunInfo } from '../../shared/ports.js';
import { ByteLru } from './byte-lru.js';
import { FreshReads, type FreshRead } from './fresh-reads.js';
import type { ContentCheck } from '../query/context.js';
import type { SeriesQuery } from '../../shared/ports.js';

export interface ServingCacheOptions {
  /** memory bound of the cached parts and answers; 0 turns caching off */
  cacheBytes: number;
  speedMaxStaleMs: number;
}

/** A cached entry names the runs it was computed from, so a publish that drops them drops it. */
export interface RunBound {
  runIds: readonly string[];
}

/** series answers, batch parts of series, drift answers, batch-to-batch comparisons of a pair of runs */
export type CachePart = 'answer' | 'batch' | 'drift' | 'pair';

/** Fixed per process: tags of one process's cache never match another's after a restart. */
const BOOT = randomBytes(6).toString('hex');

export class ServingCache {
  readonly enabled: boolean;
  private readonly lru: ByteLru<RunBound>;
  private readonly reads: FreshReads<unknown>;
  private keptKey = '';
  private readonly computing = new Map<string, { inputs: readonly unknown[]; pending: Promise<unknown> }>();

  constructor(
    readonly options: ServingCacheOptions,
    private readonly metrics: Metrics['serving'] | null,
    now: () => number,
  ) {
    this.enabled = options.cacheBytes > 0;
    this.lru = new ByteLru(options.cacheBytes, (n) => metrics?.cacheEvictions.inc(n));
    this.reads = new FreshReads(options.speedMaxStaleMs, now, 512, (outcome) => metrics?.cacheLookups.inc({ part: 'speed', outcome }));
  }

  get bytes(): number {
    return this.lru.bytes;
  }

  get entries(): number {
    return this.lru.size;
  }

  /**
   * A speed-layer read, shared and reused within the staleness bound; `check`: its content check,
   * shared by the reads whose `checkOf` has the same range (fresh-reads.ts). Keyed by what a check
   * covers (SpeedReadModel.contentCheck: view, granularity, from, to), not by the whole query: a
   * totals answer's rows and sketches queries differ in `keep` and share it all the same.
   */
  speedRead<T>(key: string, load: () => Promise<T>, check?: () => Promise<ContentCheck>, checkOf?: SeriesQuery) {
    const checkKey = checkOf === undefined ? key : JSON.stringify(['check', checkOf.view, checkOf.granularity, checkOf.from, checkOf.to]);
    return this.reads.get(key, load, check, checkKey) as Promise<FreshRead<T>>;
  }

  /**
   * The entry, if kept. `isCurrent` says whether it may be served as it is (an answer built from
   * the same run and speed reads): a kept entry that may not is counted `stale`, not `hit`.
   */
  get<V extends RunBound>(part: CachePart, key: string, isCurrent: (v: V) => boolean = () => true): V | undefined {
    const v = this.lru.get(`${part}|${key}`) as V | undefined;
    const outcome = v === undefined ? 'miss' : isCurrent(v) ? 'hit' : 'stale';
    this.metrics?.cacheLookups.inc({ part, outcome });
    return outcome === 'hit' ? v : undefined;
  }

  /**
   * Single flight: requests that want the same answer from the same inputs (the run and the speed
   * reads, compared by identity) while it is being computed wait for that computation instead of
   * each starting one. Without it, every new speed read makes all concurrent requests compute.
   */
  computeOnce<V>(key: string, inputs: readonly unknown[], compute: () => Promise<V>): Promise<V> {
    const c = this.computing.get(key);
    if (c !== undefined && c.inputs.length === inputs.length && c.inputs.every((x, i) => x === inputs[i])) return c.pending as Promise<V>;
    const pending: Promise<V> = compute().finally(() => {
      if (this.computing.get(key)?.pending === pending) this.computing.delete(key);
    });
    this.computing.set(key, { inputs, pending });
    return pending;
  }

  set<V extends RunBound>(part: CachePart, key: string, value: V, bytes: number): void {
    if (!this.enabled) return;
    this.lru.set(`${part}|${key}`, value, bytes);
    this.report();
  }

  /**
   * Called with the kept runs of every answer's snapshot: when they changed (a publish, a prune),
   * entries computed from a run no longer kept can never be asked for again, so they go at once
   * rather than waiting for the LRU to push them out.
   */
  keptRuns(runs: readonly BatchRunInfo[]): void {
    const key = runs.map((r) => r.runId).join(',');
    if (key === this.keptKey) return;
    this.keptKey = key;
    const kept = new Set(runs.map((r) => r.runId));
    this.lru.deleteWhere((_k, v) => v.runIds.some((id) => id !== '' && !kept.has(id)));
    this.report();
  }

  /** A strong entity tag for bytes computed from exactly these inputs in this process. */
  etag(...inputs: (string | number)[]): string {
    return `"${createHash('sha1').update(BOOT).update(inputs.join('\u0000')).digest('base64url').slice(0, 22)}"`;
  }

  private report(): void {
    this.metrics?.cacheBytes.set(this.lru.bytes);
    this.metrics?.cacheEntries.set(this.lru.size);
  }
}
