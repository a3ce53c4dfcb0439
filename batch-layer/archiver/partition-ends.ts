/**
 * What the archiver asks Kafka about a partition's ends (docs/design-decisions.md §4), through the
 * TopicAdmin port: whether a segment still reaches the partition end at flush time (what
 * `completeThrough` may claim), and which skipped offsets lie below the log start (archive gaps).
 */
import type { Logger } from '../../platform/logger.js';
import type { TopicAdmin } from '../../shared/kafka-ports.js';
import type { ArchiveGap } from '../../shared/ports.js';
import type { PartitionState } from './partition-state.js';

export class PartitionEnds {
  constructor(
    private readonly topic: string,
    private readonly admin: Pick<TopicAdmin, 'partitionOffsets'>,
    private readonly now: () => number,
    private readonly log: Logger,
    /** counts offsets found deleted before they were archived */
    private readonly onGap: (offsets: number) => void,
  ) {}

  /**
   * When the batch said the open segment reaches the partition end: a time taken before the end is
   * read again now, if the segment still reaches it (a batch may be handed over long after its
   * fetch, so its high watermark is not a statement about now). Null otherwise, or if Kafka cannot
   * tell (the flush goes on, claiming nothing new).
   */
  async caughtUpAt(state: PartitionState): Promise<number | null> {
    if (!state.caughtUp()) return null;
    const t = this.now();
    try {
      const end = (await this.admin.partitionOffsets(this.topic)).find((o) => o.partition === state.partition);
      return end !== undefined && state.reachesEnd(end.high) ? t : null;
    } catch (err) {
      this.log.debug({ err, partition: state.partition }, 'partition end unknown: this flush claims no caught-up time');
      return null;
    }
  }

  /**
   * Offsets `missing` = [from, to] the consumer skipped. Those below the log start were deleted
   * (retention, deleteRecords) before they were read: returned as the gap to record in the
   * checkpoint (and so in the next batch run's record), since these records are not in the master
   * dataset and never will be. Skipped offsets at or above the log start are compaction or
   * transaction markers, not lost records: null. 'stale' when `live()` turned false meanwhile.
   */
  async deletedGap(partition: number, missing: readonly [number, number], live: () => boolean): Promise<ArchiveGap | null | 'stale'> {
    const [fromOffset, skippedTo] = missing;
    const o = (await this.admin.partitionOffsets(this.topic)).find((x) => x.partition === partition);
    const logStart = o ? o.low : 0;
    if (!live()) return 'stale';
    const toOffset = Math.min(skippedTo, logStart - 1);
    if (toOffset < fromOffset) {
      this.log.info({ partition, missing, logStart }, 'offsets skipped by Kafka (compaction or transaction markers)');
      return null;
    }
    this.onGap(toOffset - fromOffset + 1);
    this.log.warn({ partition, fromOffset, toOffset, logStart }, 'offsets deleted by Kafka before the archiver read them: recorded as an archive gap');
    return { topic: this.topic, partition, fromOffset, toOffset, detectedAt: this.now() };
  }
}
