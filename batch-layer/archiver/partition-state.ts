/**
 * The archiver's in-memory state of one assigned partition: what is already archived (from the
 * checkpoint) and the open segment being filled. Pure: no I/O, so the segment and completeness
 * rules are unit-tested on their own.
 *
 * Segment naming rule (what makes re-archiving after a crash idempotent): a segment always starts
 * right after the last archived offset, `firstOffset = lastArchived + 1`, and `lastArchived` only
 * moves when a checkpoint is written. Replaying from the checkpoint therefore starts the same-named
 * segment again, and a rewrite with different boundaries replaces that one file, so no record can
 * end up in two differently named files. The arrival hour is the Kafka timestamp of the segment's
 * first record, also a fixed property of the log, never the wall clock of the flush.
 */
import type { ArchiveGap, DeadLetter } from '../../shared/ports.js';

export interface ConsumedRecord {
  offset: number;
  /** Kafka record timestamp (epoch ms) */
  timestamp: number;
  /** the master dataset line of a valid record, or the dead letter of an invalid one */
  line?: string;
  letter?: DeadLetter;
}

export interface SegmentDraft {
  partition: number;
  firstOffset: number;
  lastOffset: number;
  arrivalTs: number;
  lines: string[];
  letters: DeadLetter[];
  /** completeThrough the checkpoint will carry once this segment is durable */
  completeThrough: number;
  /** every archive gap of the partition, carried by each checkpoint */
  gaps: ArchiveGap[];
}

/** Adds a gap once: a replay after a crash finds the same gap again. */
export function withGap(gaps: readonly ArchiveGap[], gap: ArchiveGap): ArchiveGap[] {
  if (gaps.some((g) => g.partition === gap.partition && g.fromOffset === gap.fromOffset && g.toOffset === gap.toOffset)) return [...gaps];
  return [...gaps, gap].sort((a, b) => a.fromOffset - b.fromOffset);
}

/** completeThrough never goes back: arrival completeness, once true, stays true. */
export function advanceCompleteThrough(previous: number | null, candidate: number): number {
  return previous === null ? candidate : Math.max(previous, candidate);
}

export class PartitionState {
  private lines: string[] = [];
  private letters: DeadLetter[] = [];
  private count = 0;
  private firstTs = 0;
  private lastTs = 0;
  private lastConsumed: number;
  /** wall-clock time the open segment received its first record (the flushMs deadline) */
  private openedAt = 0;
  private highWatermark = -1;

  constructor(
    readonly partition: number,
    /** last offset covered by a checkpoint (-1 / first-1 before the first one) */
    public lastArchived: number,
    public completeThrough: number | null,
    /** offsets Kafka deleted before they were archived (from the checkpoint, plus any found now) */
    public gaps: ArchiveGap[] = [],
    /**
     * Whether record timestamps only grow along the partition (the topic uses LogAppendTime). Only
     * then does the last archived record's timestamp vouch for every earlier-stamped record.
     */
    private readonly monotonicTimestamps = false,
  ) {
    this.lastConsumed = lastArchived;
  }

  get size(): number {
    return this.count;
  }

  /** Records at or below this offset are archived already and must be skipped. */
  get nextOffset(): number {
    return this.lastConsumed + 1;
  }

  /** The partition end as last reported by a fetch (a hint: see caughtUp). */
  observe(highWatermark: number): void {
    this.highWatermark = highWatermark;
  }

  add(rec: ConsumedRecord, now: number): void {
    if (rec.offset < this.nextOffset) throw new Error(`offset ${rec.offset} is behind ${this.nextOffset}: already archived`);
    if (this.count === 0) {
      this.openedAt = now;
      this.firstTs = rec.timestamp;
    }
    if (rec.line !== undefined) this.lines.push(rec.line);
    if (rec.letter !== undefined) this.letters.push(rec.letter);
    this.count++;
    this.lastTs = rec.timestamp;
    this.lastConsumed = rec.offset;
  }

  isDue(now: number, flushMs: number): boolean {
    return this.count > 0 && now - this.openedAt >= flushMs;
  }

  /**
   * Whether every record the last fetch knew of has been consumed: only a hint (kafkajs may hand a
   * batch over well after it was fetched), confirmed by reading the partition end (`reachesEnd`).
   */
  caughtUp(): boolean {
    return this.highWatermark >= 0 && this.lastConsumed + 1 >= this.highWatermark;
  }

  /** Whether the open segment, once durable, holds everything up to the partition end `endOffset`. */
  reachesEnd(endOffset: number): boolean {
    return this.lastConsumed + 1 >= endOffset;
  }

  /**
   * The open segment as it would be written now. completeThrough claims only what this segment
   * makes durable (docs/design-decisions.md):
   *  - `caughtUpAt`: a time taken just before the partition end was read, when this segment
   *    reaches that end: every record that had arrived by then is in it;
   *  - otherwise, on a LogAppendTime topic, the timestamp of the segment's last record (timestamps
   *    grow along the log, so every earlier-stamped record is in), capped at `now`;
   *  - otherwise (CreateTime: a producer's clock, not monotonic) nothing new: a later, unarchived
   *    record may carry an earlier timestamp.
   */
  draft(now: number, caughtUpAt: number | null = null): SegmentDraft {
    const candidate = caughtUpAt ?? (this.monotonicTimestamps ? Math.min(this.lastTs, now) : null);
    return {
      partition: this.partition,
      firstOffset: this.lastArchived + 1,
      lastOffset: this.lastConsumed,
      arrivalTs: this.firstTs,
      lines: this.lines,
      letters: this.letters,
      completeThrough: candidate === null ? (this.completeThrough ?? 0) : advanceCompleteThrough(this.completeThrough, candidate),
      gaps: this.gaps,
    };
  }

  /** The draft's segment and checkpoint are durable: close it and start the next one. */
  archived(draft: SegmentDraft): void {
    this.lastArchived = draft.lastOffset;
    this.completeThrough = draft.completeThrough;
    this.lines = [];
    this.letters = [];
    this.count = 0;
  }

  /** An idle heartbeat: nothing buffered, nothing unconsumed up to `endOffset` at time `at`. */
  idleCaughtUp(endOffset: number): boolean {
    return this.count === 0 && this.lastArchived + 1 >= endOffset;
  }
}

export type ResumeDecision =
  /** Kafka delivered records beyond the checkpoint: move the consumer back first */
  | { kind: 'seek'; offset: number }
  /** start archiving; `missing` names offsets Kafka no longer has (retention, compaction, markers) */
  | { kind: 'start'; lastArchived: number; completeThrough: number | null; missing: [number, number] | null };

/**
 * Where a partition resumes, given its checkpoint and the first offset Kafka delivered: the master
 * dataset's checkpoint wins over Kafka's committed offset (which can be ahead after a crash between
 * commit and checkpoint, or for a new master dataset). A gap that is still there after seeking to
 * the checkpoint once (`soughtTo`) is a gap in the log itself, and is accepted.
 */
export function resumeDecision(
  cp: { lastOffset: number; completeThrough: number } | undefined,
  firstOffset: number,
  soughtTo: number | undefined,
): ResumeDecision {
  const expected = cp ? cp.lastOffset + 1 : 0;
  if (firstOffset > expected && soughtTo !== expected) return { kind: 'seek', offset: expected };
  return {
    kind: 'start',
    // Without a checkpoint the first segment starts at the first record there is.
    lastArchived: cp ? cp.lastOffset : firstOffset - 1,
    completeThrough: cp?.completeThrough ?? null,
    // Also without a checkpoint: records before the first one Kafka still has were never archived.
    missing: firstOffset > expected ? [expected, firstOffset - 1] : null,
  };
}
