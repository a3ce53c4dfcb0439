/**
 * One fetched (sub-)batch of one partition -> what to apply in one atomic step: the pre-aggregated
 * increments (shared/ Aggregate, the same monoids as the batch layer), per-group drift counters
 * (late, duplicates applied, not dedupe-checked), the partition's totals and the invalid records
 * for the DLQ. Pure: what Redis knows comes in (the claims' answers, the watermark), nothing goes
 * out but the plan. Each record is parsed and projected once (parseProjectedLine keeps the
 * projections validation computed).
 */
import { Aggregate, type GroupState } from '../shared/aggregate/aggregate.js';
import { parseProjectedLine, type InvalidReason, type ProjectedResult } from '../shared/events.js';
import {
  CLAIM_DUPLICATE,
  CLAIM_OWNED,
  CLAIM_UNCHECKED,
  beyondDedupeWindow,
  isLateClass,
  type ClaimItem,
  type GroupCounters,
  type LateClassEntry,
  type LostRange,
  type SpeedApply,
} from '../shared/speed/apply.js';
import { floorTo, floorToMinute } from '../shared/time.js';
import type { ViewSet } from '../shared/views/definition.js';

export interface SourceRecord {
  offset: number;
  key: string | null;
  value: string | null;
  /** Kafka timestamp of the record (epoch ms): its arrival */
  timestamp: number;
}

export interface ParsedRecord extends SourceRecord {
  parsed: ProjectedResult;
}

/** An invalid record on its way to the dead-letter topic. */
export interface InvalidRecord {
  offset: number;
  key: string | null;
  value: string | null;
  reason: InvalidReason;
  message: string;
}

/** Parse once: the ids feed the claims, the projections feed the plan. */
export function parseRecords(records: readonly SourceRecord[], views: ViewSet): ParsedRecord[] {
  // A null value (tombstone) is not an event: it fails as not_json and goes to the DLQ.
  return records.map((r) => ({ ...r, parsed: parseProjectedLine(r.value ?? '', views) }));
}

/**
 * The claims a batch must make (valid records within the dedupe window), and per record its claim
 * answer so far: UNCHECKED for records beyond the window, OWNED for the rest until `resolveClaims`.
 */
export function claimRequests(records: readonly ParsedRecord[], windowMs: number): { items: ClaimItem[]; at: number[]; flags: Uint8Array } {
  const items: ClaimItem[] = [];
  const at: number[] = [];
  const flags = new Uint8Array(records.length);
  records.forEach((r, i) => {
    if (!r.parsed.ok) return;
    const { id, ts } = r.parsed.event;
    if (beyondDedupeWindow(ts, r.timestamp, windowMs)) {
      flags[i] = CLAIM_UNCHECKED;
      return;
    }
    items.push({ offset: r.offset, id, ts });
    at.push(i);
  });
  return { items, at, flags };
}

/** Writes the store's answers (one per claim item) into the per-record flags. */
export function resolveClaims(flags: Uint8Array, at: readonly number[], answers: ArrayLike<number>): Uint8Array {
  if (answers.length !== at.length) throw new RangeError(`expected ${at.length} claim answers, got ${answers.length}`);
  at.forEach((i, k) => {
    flags[i] = answers[k] === CLAIM_DUPLICATE ? CLAIM_DUPLICATE : CLAIM_OWNED;
  });
  return flags;
}

export interface PlanInput {
  partition: number;
  /** offsets ascending, the first at or after expectedNext */
  records: readonly ParsedRecord[];
  /** per record, CLAIM_OWNED | CLAIM_DUPLICATE | CLAIM_UNCHECKED (ignored for invalid records) */
  claims: Uint8Array;
  expectedNext: number;
  views: ViewSet;
  dedupe: boolean;
  /** W of the published batch run; null before the first run (nothing is late then) */
  watermark: number | null;
  /** LAMBDA_ALLOWED_LATENESS_MS: events arriving later than this after their event time are late-class */
  allowedLatenessMs: number;
  /** set when the batch starts past offsets Kafka deleted before they were read */
  lost?: LostRange;
  /** the partition's coveredSince as stored (a loss moves it forward to lost.untilTs) */
  coveredSince?: number;
  nowMs: number;
}

export interface BatchPlan {
  apply: SpeedApply;
  invalid: InvalidRecord[];
  invalidByReason: Map<InvalidReason, number>;
  maxEventTs: number | null;
}

export function planBatch(input: PlanInput): BatchPlan {
  const { views, watermark } = input;
  const last = input.records[input.records.length - 1];
  if (last === undefined) throw new RangeError('planBatch needs at least one record');
  const agg = new Aggregate();
  const counters = new Map<GroupState, GroupCounters>();
  const lateClass: LateClassEntry[] = [];
  const invalid: InvalidRecord[] = [];
  const invalidByReason = new Map<InvalidReason, number>();
  const totals = { events: 0, duplicatesSkipped: 0, duplicatesApplied: 0, late: 0, invalid: 0, unchecked: 0 };
  let maxEventTs: number | null = null;
  // Late at any granularity implies ts < floor_minute(W): a cheap test before looking at buckets.
  const lateBefore = watermark === null ? -Infinity : floorToMinute(watermark);

  input.records.forEach((r, i) => {
    const parsed = r.parsed;
    if (!parsed.ok) {
      invalid.push({ offset: r.offset, key: r.key, value: r.value, reason: parsed.reason, message: parsed.message });
      invalidByReason.set(parsed.reason, (invalidByReason.get(parsed.reason) ?? 0) + 1);
      totals.invalid++;
      return;
    }
    const claim = input.claims[i];
    const duplicate = claim === CLAIM_DUPLICATE;
    if (duplicate && input.dedupe) {
      totals.duplicatesSkipped++;
      return;
    }
    const { ts } = parsed.event;
    totals.events++;
    if (duplicate) totals.duplicatesApplied++;
    const unchecked = claim === CLAIM_UNCHECKED;
    if (unchecked) totals.unchecked++;
    maxEventTs = maxEventTs === null ? ts : Math.max(maxEventTs, ts);
    const counted = duplicate || unchecked || ts < lateBefore;
    // Only the copy that owns its id: a duplicate is attributed as one (dups), an unchecked copy
    // may be one (unchecked), neither can be the event a batch run lacks.
    const recordLate = claim === CLAIM_OWNED && isLateClass(ts, r.timestamp, input.allowedLatenessMs);
    let late = false;
    views.views.forEach((view, v) => {
      const p = parsed.projections[v];
      if (p === null || p === undefined) return;
      agg.addProjection(view, ts, p);
      if (recordLate) {
        for (const g of view.granularities)
          lateClass.push({ group: agg.get(view.name, g, floorTo(ts, g), p.dims) as GroupState, offset: r.offset, arrival: r.timestamp });
      }
      if (!counted) return;
      for (const g of view.granularities) {
        const bucketStart = floorTo(ts, g);
        const lateHere = watermark !== null && bucketStart < floorTo(watermark, g);
        if (!lateHere && !duplicate && !unchecked) continue;
        late ||= lateHere;
        const group = agg.get(view.name, g, bucketStart, p.dims) as GroupState;
        let c = counters.get(group);
        if (c === undefined) {
          c = { late: 0, dups: 0, unchecked: 0 };
          counters.set(group, c);
        }
        if (lateHere) c.late++;
        if (duplicate) c.dups++;
        if (unchecked) c.unchecked++;
      }
    });
    if (late) totals.late++;
  });

  return {
    apply: {
      partition: input.partition,
      expectedNext: input.expectedNext,
      newNext: last.offset + 1,
      groups: [...agg.groups()],
      counters,
      lateClass,
      totals,
      ...(invalidByReason.size > 0 ? { invalidByReason } : {}),
      ...(input.lost ? { lost: input.lost, coveredSince: Math.max(input.coveredSince ?? 0, input.lost.untilTs) } : {}),
      nowMs: input.nowMs,
    },
    invalid,
    invalidByReason,
    maxEventTs,
  };
}
