/**
 * Arrival completeness of the master dataset (docs/design-decisions.md §4): A = min over the partitions of the event
 * topic of `completeThrough`. Every partition of the topic counts, also one that never received a
 * record (the archiver's idle heartbeat moves it on); a partition with no checkpoint yet makes A
 * unknown (null) rather than letting the others claim completeness it cannot vouch for. Checkpoints
 * of other topics (backfill pseudo topics `import.*`) are ignored: no Kafka partition feeds them.
 */
import type { Checkpoint } from '../ports.js';

export interface TopicPartitions {
  topic: string;
  /** partition count of the topic: partitions 0..partitions-1 must all have a checkpoint */
  partitions: number;
}

export function arrivalComplete(checkpoints: readonly Checkpoint[], of: TopicPartitions): number | null {
  if (!Number.isSafeInteger(of.partitions) || of.partitions < 1) return null;
  return arrivalCompleteOver(
    checkpoints,
    of.topic,
    Array.from({ length: of.partitions }, (_, p) => p),
  ).arrivalComplete;
}

export interface PartitionsCompleteness {
  /** min of completeThrough over `partitions`; null when one has no checkpoint (or there are none) */
  arrivalComplete: number | null;
  /** partitions of the list without a checkpoint, sorted */
  missing: number[];
}

/** A over an explicit list of partition ids (the topic's real partitions, as Kafka reports them). */
export function arrivalCompleteOver(checkpoints: readonly Checkpoint[], topic: string, partitions: readonly number[]): PartitionsCompleteness {
  const byPartition = new Map<number, number>();
  for (const cp of checkpoints) if (cp.topic === topic) byPartition.set(cp.partition, cp.completeThrough);
  let min = Number.POSITIVE_INFINITY;
  const missing: number[] = [];
  for (const p of [...new Set(partitions)].sort((a, b) => a - b)) {
    const through = byPartition.get(p);
    if (through === undefined) missing.push(p);
    else min = Math.min(min, through);
  }
  return { arrivalComplete: partitions.length === 0 || missing.length > 0 ? null : min, missing };
}
