/**
 * One fetched (sub-)batch of one partition -> what to apply to Redis in one atomic call: the
 * pre-aggregated increments (shared/ Aggregate, the same monoids as the batch layer), the ids to
 * remember, per-group late and duplicate counters, and the invalid records for the DLQ. Pure:
 * Redis state comes in (`seen`, the watermark), nothing goes out but the plan.
 */
import { Aggregate, groupKey } from '../shared/aggregate/aggregate.js';
import { parseEventLine, type ParseResult } from '../shared/events.js';
import { floorTo, floorToMinute, type Granularity } from '../shared/time.js';
import type { ViewSet } from '../shared/views/definition.js';
import { project } from '../shared/views/project.js';
import type { GroupCounters, SpeedApply } from '../adapters/redis/apply-ops.js';
import type { DeadLetter } from '../adapters/kafka/dlq.js';

export interface SourceRecord {
  offset: number;
  key: string | null;
  value: string | null;
}

export interface ParsedRecord extends SourceRecord {
  parsed: ParseResult;
}

/** Parse once: the ids feed the dedupe look-up, the events feed the plan. */
export function parseRecords(records: readonly SourceRecord[], views: ViewSet): ParsedRecord[] {
  // A null value (tombstone) is not an event: it fails as not_json and goes to the DLQ.
  return records.map((r) => ({ ...r, parsed: parseEventLine(r.value ?? '', views) }));
}

export function eventIds(records: readonly ParsedRecord[]): string[] {
  const ids = new Set<string>();
  for (const r of records) if (r.parsed.ok) ids.add(r.parsed.event.id);
  return [...ids];
}

export interface PlanInput {
  topic: string;
  partition: number;
  /** offsets ascending, the first at or after expectedNext */
  records: readonly ParsedRecord[];
  expectedNext: number;
  /** ids already recorded in Redis before this batch */
  seen: ReadonlySet<string>;
  views: ViewSet;
  dedupe: boolean;
  /** W of the published batch run; null before the first run (nothing is late then) */
  watermark: number | null;
  nowMs: number;
}

export interface BatchPlan {
  apply: SpeedApply;
  deadLetters: DeadLetter[];
  /** applied events counted late (late at some granularity), for metrics */
  lateEvents: number;
  invalidByReason: Map<string, number>;
  maxEventTs: number | null;
}

/** A bucket is late when it is already behind the serving boundary B_g = floor_g(W). */
function isLate(ts: number, g: Granularity, watermark: number): boolean {
  return floorTo(ts, g) < floorTo(watermark, g);
}

export function planBatch(input: PlanInput): BatchPlan {
  const { views, watermark } = input;
  const last = input.records[input.records.length - 1];
  if (last === undefined) throw new RangeError('planBatch needs at least one record');
  const agg = new Aggregate();
  const counters = new Map<string, GroupCounters>();
  const seen = new Set(input.seen);
  const seenIds: string[] = [];
  const deadLetters: DeadLetter[] = [];
  const invalidByReason = new Map<string, number>();
  const totals = { events: 0, duplicatesSkipped: 0, duplicatesApplied: 0, late: 0, invalid: 0 };
  let maxEventTs: number | null = null;
  // Late at any granularity implies ts < floor_minute(W): a cheap test before projecting again.
  const lateBefore = watermark === null ? -Infinity : floorToMinute(watermark);

  for (const r of input.records) {
    if (!r.parsed.ok) {
      const { reason, message } = r.parsed;
      deadLetters.push({ value: r.value, key: r.key, topic: input.topic, partition: input.partition, offset: r.offset, layer: 'speed', reason, message });
      invalidByReason.set(reason, (invalidByReason.get(reason) ?? 0) + 1);
      totals.invalid++;
      continue;
    }
    const event = r.parsed.event;
    // Ids are always recorded, so duplicates are known (and counted) even with dedupe off.
    const duplicate = seen.has(event.id);
    if (!duplicate) {
      seen.add(event.id);
      seenIds.push(event.id);
    } else if (input.dedupe) {
      totals.duplicatesSkipped++;
      continue;
    }
    agg.add(event, views);
    totals.events++;
    if (duplicate) totals.duplicatesApplied++;
    maxEventTs = maxEventTs === null ? event.ts : Math.max(maxEventTs, event.ts);
    if (!duplicate && event.ts >= lateBefore) continue;

    let late = false;
    for (const view of views.views) {
      const p = project(view, event);
      if (p === null) continue;
      for (const g of view.granularities) {
        const lateHere = watermark !== null && isLate(event.ts, g, watermark);
        if (!lateHere && !duplicate) continue;
        late ||= lateHere;
        const bucketStart = floorTo(event.ts, g);
        const key = groupKey(view.name, g, bucketStart, p.dims);
        const c = counters.get(key) ?? { ref: { view: view.name, granularity: g, bucketStart, dims: p.dims }, late: 0, dups: 0 };
        counters.set(key, c);
        if (lateHere) c.late++;
        if (duplicate) c.dups++;
      }
    }
    if (late) totals.late++;
  }

  return {
    apply: {
      partition: input.partition,
      expectedNext: input.expectedNext,
      newNext: last.offset + 1,
      groups: [...agg.groups()],
      counters: [...counters.values()],
      seenIds,
      totals,
      nowMs: input.nowMs,
    },
    deadLetters,
    lateEvents: totals.late,
    invalidByReason,
    maxEventTs,
  };
}
