/**
 * Keeps `completeThrough` moving for partitions with nothing to archive. A partition that receives
 * no records gets no batches and so no flushes; without this its checkpoint would stand still (or
 * never exist) and hold A = min over partitions back for ever. Every `every` ms, for each assigned
 * partition that is caught up (everything up to the partition end, read just now, is archived), it
 * rewrites the checkpoint with completeThrough = the time just before the end was read.
 */
import type { Metrics } from '../../platform/metrics.js';
import type { TopicAdmin } from '../../shared/kafka-ports.js';
import type { ArchiveGap, Checkpoint, MasterDataset } from '../../shared/ports.js';
import { advanceCompleteThrough, withGap, type PartitionState } from './partition-state.js';

export interface BeatInput {
  every: number;
  partitions: readonly number[];
  states: ReadonlyMap<number, PartitionState>;
  /** false once the archiver lost its assignment: stop writing at once */
  live: () => boolean;
  now: () => number;
}

export class IdleHeartbeat {
  private last = 0;

  constructor(
    private readonly topic: string,
    private readonly master: MasterDataset,
    private readonly admin: Pick<TopicAdmin, 'partitionOffsets'>,
    private readonly metrics: Metrics,
    /** counts offsets found deleted before they were archived */
    private readonly onGap?: (offsets: number) => void,
  ) {}

  async maybeBeat(input: BeatInput): Promise<void> {
    const t0 = input.now();
    if (t0 - this.last < input.every || input.partitions.length === 0) return;
    this.last = t0;
    // t0 is taken before the ends are read: anything that arrives later is not vouched for.
    const ends = new Map((await this.admin.partitionOffsets(this.topic)).map((o) => [o.partition, { high: o.high, low: o.low }]));
    let stored: Map<number, Checkpoint> | null = null;
    for (const partition of input.partitions) {
      const end = ends.get(partition);
      if (!end || !input.live()) continue;
      const state = input.states.get(partition);
      let next: Checkpoint;
      if (state) {
        if (!state.idleCaughtUp(end.high)) continue;
        next = this.beat(partition, state.lastArchived, state.completeThrough, state.gaps, t0);
      } else {
        // Not positioned yet (no batch since the assignment): judge from the stored checkpoint.
        stored ??= new Map((await this.master.readCheckpoints()).filter((c) => c.topic === this.topic).map((c) => [c.partition, c]));
        const cp = stored.get(partition);
        const expected = cp ? cp.lastOffset + 1 : 0;
        if (Math.max(expected, end.low) < end.high) continue; // records to archive first
        // Everything Kafka still has is archived. Offsets it deleted before they were read (all of
        // them, when the partition is empty now) are an archive gap, recorded like the archiver does.
        let gaps = cp?.gaps ?? [];
        if (expected < end.low) {
          gaps = withGap(gaps, { topic: this.topic, partition, fromOffset: expected, toOffset: end.low - 1, detectedAt: t0 });
          this.onGap?.(end.low - expected);
        }
        next = this.beat(partition, Math.max(expected, end.high) - 1, cp?.completeThrough ?? null, gaps, t0);
      }
      if (!input.live()) return;
      await this.master.writeCheckpoint(next);
      if (state) state.completeThrough = next.completeThrough;
      this.metrics.archiver.completeThrough.set({ partition: String(partition) }, next.completeThrough / 1000);
    }
  }

  private beat(partition: number, lastOffset: number, previous: number | null, gaps: readonly ArchiveGap[], t0: number): Checkpoint {
    const cp: Checkpoint = { topic: this.topic, partition, lastOffset, completeThrough: advanceCompleteThrough(previous, t0), updatedAt: t0 };
    return gaps.length > 0 ? { ...cp, gaps: [...gaps] } : cp;
  }
}
