/**
 * Which buckets a Kappa rebuild cannot recompute (docs/design-decisions.md, "Lambda vs Kappa"):
 * those holding events whose records the log no longer has. Kafka keeps a partition from its log
 * start offset on; records below it were deleted (retention, deleteRecords). The master dataset
 * still holds them: the archiver wrote each partition's records in offset order into segments
 * named by the first offset of the range they cover, so the lost events are the lines of the
 * segments below the log start. Pure: the caller reads the segments.
 *
 * A segment holds only the valid records of its range (invalid ones went to the dead-letter
 * topic), so line i has offset >= firstOffset + i, with equality for every line when the segment
 * has as many lines as offsets. For a segment across the log start:
 * - as many lines as offsets: exactly the first (logStart - firstOffset) lines are lost;
 * - fewer (invalid records in the range): the first min(lines, logStart - firstOffset) lines may
 *   be lost (a line at or past that index has offset >= logStart and is not); they are all named,
 *   and the answer says it is not exact.
 */
import { parseProjectedLine } from '../events.js';
import { floorTo, type Granularity } from '../time.js';
import type { ViewSet } from '../views/definition.js';

export interface SegmentRange {
  firstOffset: number;
  /** the offset after the range (the next segment's first offset, or the checkpoint's last + 1) */
  endOffset: number;
  lines: number;
}

/** How many of a segment's first lines were deleted from the log, and whether that count is exact. */
export function lostLines(seg: SegmentRange, logStart: number): { lost: number; exact: boolean } {
  if (seg.firstOffset >= logStart || seg.lines === 0) return { lost: 0, exact: true };
  if (seg.endOffset <= logStart) return { lost: seg.lines, exact: true };
  const below = logStart - seg.firstOffset;
  if (seg.lines === seg.endOffset - seg.firstOffset) return { lost: below, exact: true };
  return { lost: Math.min(seg.lines, below), exact: false };
}

/** Key of one bucket of one view at one granularity in the lost counts. */
export function lostKey(view: string, g: Granularity, bucketStart: number): string {
  return `${view}|${g}|${bucketStart}`;
}

/** Adds each valid line's event to the buckets of every view whose filter it matches, at each granularity. */
export function addLostEvents(lines: Iterable<string>, views: ViewSet, into: Map<string, number>): number {
  let events = 0;
  for (const line of lines) {
    const r = parseProjectedLine(line, views);
    if (!r.ok) continue;
    events++;
    views.views.forEach((view, i) => {
      if (r.projections[i] === null || r.projections[i] === undefined) return;
      for (const g of view.granularities) {
        const key = lostKey(view.name, g, floorTo(r.event.ts, g));
        into.set(key, (into.get(key) ?? 0) + 1);
      }
    });
  }
  return events;
}

/** The lost counts of one view at one granularity: bucket start -> events. */
export function lostOf(lost: ReadonlyMap<string, number>, view: string, g: Granularity): Map<number, number> {
  const prefix = `${view}|${g}|`;
  const out = new Map<number, number>();
  for (const [key, n] of lost) if (key.startsWith(prefix)) out.set(Number(key.slice(prefix.length)), n);
  return out;
}
