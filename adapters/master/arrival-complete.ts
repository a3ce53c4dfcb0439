/**
 * Arrival completeness of the master dataset (DESIGN §4): A = min over the partitions of the event
 * topic of `completeThrough`. Every partition of the topic counts, also one that never received a
 * record (the archiver's idle heartbeat moves it on); a partition with no checkpoint yet makes A
 * unknown (null) rather than letting the others claim completeness it cannot vouch for. Checkpoints
 * of other topics (backfill pseudo topics `import.*`) are ignored: no Kafka partition feeds them.
 */
import type { Checkpoint } from '../../shared/ports.js';

export interface TopicPartitions {
  topic: string;
  /** partition count of the topic: partitions 0..partitions-1 must all have a checkpoint */
  partitions: number;
}

export function arrivalComplete(checkpoints: readonly Checkpoint[], of: TopicPartitions): number | null {
  if (!Number.isSafeInteger(of.partitions) || of.partitions < 1) return null;
  const byPartition = new Map<number, number>();
  for (const cp of checkpoints) {
    if (cp.topic !== of.topic) continue;
    byPartition.set(cp.partition, cp.completeThrough);
  }
  let min = Number.POSITIVE_INFINITY;
  for (let p = 0; p < of.partitions; p++) {
    const through = byPartition.get(p);
    if (through === undefined) return null;
    min = Math.min(min, through);
  }
  return min;
}
