/**
 * What the speed layer does when it finds a partition's stored offset behind the offset it had
 * applied itself: Redis lost acknowledged writes (a Redis Cluster failover after asynchronous
 * replication, a restart from an older AOF, a restore). The offset and the partition's counters
 * went back together (one slot, one script), so the consumer seeks back and applies the records
 * again from Kafka: nothing is counted twice. It is said where an operator looks: a warning in the
 * log, a Prometheus counter, and a record on the status page (`speed.replays`: partition, the
 * range replayed, how many records, when, by whom). Stored offsets only grow, so a stored offset
 * below one this consumer applied is never a race with another consumer (docs §6, "Redis Cluster").
 */
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { ReplayRecord, SpeedStateStore } from '../shared/speed/ports.js';

export interface ReplayNotesDeps {
  store: Pick<SpeedStateStore, 'recordReplay'>;
  /** this consumer (host, pid, nonce), as in its progress reports */
  instance: string;
  metrics: Metrics;
  log: Logger;
}

export class ReplayNotes {
  constructor(private readonly d: ReplayNotesDeps) {}

  /** Redis holds `stored` for `partition` where this consumer had applied up to `applied` (exclusive). */
  async note(partition: number, stored: number, applied: number, detectedBy: ReplayRecord['detectedBy']): Promise<void> {
    const replay: ReplayRecord = {
      partition,
      from: stored,
      to: applied,
      records: applied - stored,
      detectedAt: Date.now(),
      instance: this.d.instance,
      detectedBy,
    };
    this.d.log.warn(replay, 'Redis holds an older offset than this consumer applied (Redis lost writes: a failover or an older file): replaying from Kafka');
    this.d.metrics.speed.replayedRecords.inc(replay.records);
    // Best effort: the replay itself does not depend on the record (the status page may miss it if Redis is down now).
    await this.d.store.recordReplay(replay).catch((err: unknown) => this.d.log.warn({ err, partition }, 'could not record the replay for the status page'));
  }
}
