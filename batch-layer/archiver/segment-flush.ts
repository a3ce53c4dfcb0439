/**
 * One segment flush, in the order that keeps the master dataset exact under crashes and rebalances:
 *
 *  1. dead letters to the DLQ (at-least-once: a crash before 4 sends them again);
 *  2. the segment file, atomic and durable (docs/design-decisions.md §4: no commit before this), and fenced: it never
 *     replaces a different segment of the same name (writeFenced below);
 *  3. the Kafka offset commit, which doubles as an ownership fence: Kafka rejects it from a member
 *     that lost the partition in a rebalance, and then step 4 is skipped;
 *  4. the checkpoint, which is the truth on restart (the archiver always resumes from it).
 *
 * A crash between any two steps leaves the checkpoint at the previous segment; the archiver resumes
 * right after it and writes the same-named file again (see partition-state.ts), so nothing is lost
 * and nothing is doubled. A crash between 3 and 4 leaves Kafka's committed offset ahead of the
 * checkpoint: harmless, since the archiver seeks back to the checkpoint on assignment.
 */
import type { Metrics } from '../../platform/metrics.js';
import type { Checkpoint, DeadLetterSink, MasterDataset, MasterFile, MasterSegment } from '../../shared/ports.js';
import { asSegmentConflict } from '../../shared/segment-conflict.js';
import type { SegmentDraft } from './partition-state.js';

export interface FlushTarget {
  topic: string;
  master: MasterDataset;
  /** the dead-letter topic (started and stopped by the archiver) */
  deadLetters: DeadLetterSink;
  metrics: Metrics;
  /** told of every refused segment write (counted and logged by the archiver) */
  onConflict?: (key: string) => void;
}

/** Thrown when the archiver may no longer write for a partition (rebalanced away, stopping). */
export class FencedError extends Error {
  constructor(partition: number, why = 'is no longer owned by this archiver') {
    super(`partition ${partition} ${why}`);
    this.name = 'FencedError';
  }
}

/**
 * The segment's name holds a different segment that a checkpoint vouches for: another archiver took
 * the partition over and archived past this one. Its checkpoint wins; this archiver's draft is dropped.
 */
export class SegmentTakenError extends FencedError {
  constructor(partition: number, key: string) {
    super(partition, `was archived by another archiver (${key} holds its segment)`);
    this.name = 'SegmentTakenError';
  }
}

export interface FlushResult {
  file: MasterFile | null;
  checkpoint: Checkpoint;
}

/**
 * Step 2, fenced: a segment never replaces a different one (docs/design-decisions.md). When the
 * name holds other bytes:
 *  - a checkpoint at or past the segment's first offset vouches for them: another archiver owns
 *    the range (SegmentTakenError; this one lost the partition and must re-read the checkpoint);
 *  - otherwise they are an orphan, a segment whose flush never reached its checkpoint (this or an
 *    earlier owner crashed or failed between steps 2 and 4). The orphan is replaced only after a
 *    commit proves this archiver still owns the partition, and only if it is still that very
 *    object (compare-and-swap), so an owner that took over meanwhile keeps its segment.
 */
async function writeFenced(t: FlushTarget, seg: MasterSegment, commit: (partition: number, nextOffset: number) => Promise<void>): Promise<MasterFile> {
  try {
    return await t.master.writeSegment(seg);
  } catch (err) {
    const conflict = asSegmentConflict(err);
    if (conflict === null) throw err;
    t.onConflict?.(conflict.key);
    const cp = (await t.master.readCheckpoints()).find((c) => c.topic === seg.topic && c.partition === seg.partition);
    if (cp !== undefined && cp.lastOffset >= seg.firstOffset) throw new SegmentTakenError(seg.partition, conflict.key);
    await commit(seg.partition, seg.firstOffset); // FencedError unless this archiver owns the partition now
    try {
      return await t.master.writeSegment(seg, { replacing: conflict.existing });
    } catch (again) {
      if (asSegmentConflict(again) !== null) throw new SegmentTakenError(seg.partition, conflict.key);
      throw again;
    }
  }
}

export async function flushSegment(
  t: FlushTarget,
  draft: SegmentDraft,
  /** commits `nextOffset` for the partition; rejects when fenced */
  commit: (partition: number, nextOffset: number) => Promise<void>,
  now: number,
): Promise<FlushResult> {
  if (draft.letters.length > 0) await t.deadLetters.send(draft.letters);
  const file =
    draft.lines.length === 0
      ? null // every record was invalid: nothing to archive, but the checkpoint still moves on
      : await writeFenced(
          t,
          { topic: t.topic, partition: draft.partition, firstOffset: draft.firstOffset, arrivalTs: draft.arrivalTs, lines: draft.lines },
          commit,
        );
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
