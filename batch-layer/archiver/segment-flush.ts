/**
 * One segment flush, in the order that keeps the master dataset exact under crashes and rebalances:
 *
 *  1. dead letters to the DLQ (at-least-once: a crash before 4 sends them again);
 *  2. the segment file, atomic and durable (DESIGN §4: no commit before this);
 *  3. the Kafka offset commit, which doubles as an ownership fence: Kafka rejects it from a member
 *     that lost the partition in a rebalance, and then step 4 is skipped;
 *  4. the checkpoint, which is the truth on restart (the archiver always resumes from it).
 *
 * A crash between any two steps leaves the checkpoint at the previous segment; the archiver resumes
 * right after it and writes the same-named file again (see partition-state.ts), so nothing is lost
 * and nothing is doubled. A crash between 3 and 4 leaves Kafka's committed offset ahead of the
 * checkpoint: harmless, since the archiver seeks back to the checkpoint on assignment.
 */
import { sendDeadLetters } from '../../adapters/kafka/dlq.js';
import type { EventProducer } from '../../adapters/kafka/producer.js';
import type { Metrics } from '../../platform/metrics.js';
import type { Checkpoint, MasterDataset, MasterFile } from '../../shared/ports.js';
import type { SegmentDraft } from './partition-state.js';

export interface FlushTarget {
  topic: string;
  dlqTopic: string;
  master: MasterDataset;
  producer: EventProducer;
  metrics: Metrics;
}

/** Thrown when the archiver may no longer write for a partition (rebalanced away, stopping). */
export class FencedError extends Error {
  constructor(partition: number) {
    super(`partition ${partition} is no longer owned by this archiver`);
    this.name = 'FencedError';
  }
}

export interface FlushResult {
  file: MasterFile | null;
  checkpoint: Checkpoint;
}

export async function flushSegment(
  t: FlushTarget,
  draft: SegmentDraft,
  /** commits `nextOffset` for the partition; rejects when fenced */
  commit: (partition: number, nextOffset: number) => Promise<void>,
  now: number,
): Promise<FlushResult> {
  if (draft.letters.length > 0) await sendDeadLetters(t.producer, t.dlqTopic, draft.letters);
  const file =
    draft.lines.length === 0
      ? null // every record was invalid: nothing to archive, but the checkpoint still moves on
      : await t.master.writeSegment({ topic: t.topic, partition: draft.partition, firstOffset: draft.firstOffset, arrivalTs: draft.arrivalTs, lines: draft.lines });
  await commit(draft.partition, draft.lastOffset + 1);
  const checkpoint: Checkpoint = {
    topic: t.topic,
    partition: draft.partition,
    lastOffset: draft.lastOffset,
    completeThrough: draft.completeThrough,
    updatedAt: now,
    ...(draft.gaps.length > 0 ? { gaps: draft.gaps } : {}),
  };
  await t.master.writeCheckpoint(checkpoint);

  for (const l of draft.letters) t.metrics.invalidEvents.inc({ layer: 'archiver', reason: l.reason });
  t.metrics.archiver.events.inc(draft.lines.length);
  if (file) t.metrics.archiver.segments.inc();
  t.metrics.archiver.completeThrough.set({ partition: String(draft.partition) }, checkpoint.completeThrough / 1000);
  return { file, checkpoint };
}
