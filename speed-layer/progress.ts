/**
 * What this consumer knows about its partitions' progress: the next offset it applied, the
 * partition end at the last fetch (so lag = end - next) and the newest event time applied. Feeds
 * the Prometheus gauges and the status hash the serving layer reads.
 */
import type { PartitionProgress } from '../shared/speed/ports.js';
import type { Metrics } from '../platform/metrics.js';

interface Known {
  next: number | null;
  highWatermark: number | null;
  maxEventTs: number | null;
}

export class ProgressTracker {
  private readonly parts = new Map<number, Known>();
  private newestEventTs: number | null = null;

  constructor(
    private readonly instance: string,
    private readonly metrics: Metrics,
  ) {}

  private get(partition: number): Known {
    let k = this.parts.get(partition);
    if (k === undefined) {
      k = { next: null, highWatermark: null, maxEventTs: null };
      this.parts.set(partition, k);
    }
    return k;
  }

  noteFetch(partition: number, highWatermark: number): void {
    this.get(partition).highWatermark = highWatermark;
    this.updateLag(partition);
  }

  noteNext(partition: number, next: number, maxEventTs: number | null = null): void {
    const k = this.get(partition);
    k.next = next;
    if (maxEventTs !== null && (k.maxEventTs === null || maxEventTs > k.maxEventTs)) k.maxEventTs = maxEventTs;
    if (maxEventTs !== null && (this.newestEventTs === null || maxEventTs > this.newestEventTs)) this.newestEventTs = maxEventTs;
    this.updateLag(partition);
    this.updateEventTimeLag(Date.now());
  }

  forget(partition: number): void {
    this.parts.delete(partition);
    this.metrics.speed.consumerLag.remove({ partition: String(partition) });
  }

  updateEventTimeLag(nowMs: number): void {
    if (this.newestEventTs !== null) this.metrics.speed.eventTimeLag.set(Math.max(0, nowMs - this.newestEventTs) / 1000);
  }

  /** Progress of the given partitions (those with a known next offset), for the status hash. */
  snapshot(partitions: Iterable<number>, nowMs: number): PartitionProgress[] {
    const out: PartitionProgress[] = [];
    for (const partition of partitions) {
      const k = this.parts.get(partition);
      if (k?.next == null) continue;
      const lag = k.highWatermark === null ? null : Math.max(0, k.highWatermark - k.next);
      out.push({ partition, next: k.next, highWatermark: k.highWatermark, lag, maxEventTs: k.maxEventTs, updatedAt: nowMs, instance: this.instance });
    }
    return out;
  }

  private updateLag(partition: number): void {
    const k = this.get(partition);
    if (k.next !== null && k.highWatermark !== null) {
      this.metrics.speed.consumerLag.set({ partition: String(partition) }, Math.max(0, k.highWatermark - k.next));
    }
  }
}
