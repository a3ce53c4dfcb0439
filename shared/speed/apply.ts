/**
 * What the speed layer applies to its store for one fetched (sub-)batch of one partition: the
 * planner (speed-layer/plan.ts) builds it, a speed-state adapter (adapters/redis) writes it in one
 * atomic step with the partition's new offset. Pure types and rules, no I/O.
 */
import type { GroupState } from '../aggregate/aggregate.js';
import type { InvalidReason } from '../events.js';
import { HOUR_MS } from '../time.js';

/** Drift counters of one group, beside its measures (docs/design-decisions.md, "Speed layer"). */
export interface GroupCounters {
  /** events applied whose bucket was already behind the published batch watermark's boundary */
  late: number;
  /** events applied although another copy of their id was applied first (dedupe off) */
  dups: number;
  /** events applied without a dedupe check: they arrived after their event hour's claims expired */
  unchecked: number;
}

/**
 * An applied event that arrived later than the allowed lateness (event time < Kafka timestamp -
 * allowedLateness), seen through one group. Only such events can be missing from a batch run whose
 * boundary covers their bucket (docs/design-decisions.md, "Drift"), so the speed layer keeps each
 * one with its coordinates for the drift report to decide, per run, whether the run has it.
 */
export interface LateClassEntry {
  group: GroupState;
  offset: number;
  /** Kafka timestamp (arrival) */
  arrival: number;
}

/** Whether an event is late-class: it arrived more than the allowed lateness after its event time. */
export function isLateClass(eventTs: number, arrivalTs: number, allowedLatenessMs: number): boolean {
  return eventTs < arrivalTs - allowedLatenessMs;
}

export interface SpeedTotals {
  events: number;
  duplicatesSkipped: number;
  duplicatesApplied: number;
  late: number;
  invalid: number;
  unchecked: number;
}

export const SPEED_TOTAL_FIELDS: readonly (keyof SpeedTotals)[] = Object.freeze([
  'events',
  'duplicatesSkipped',
  'duplicatesApplied',
  'late',
  'invalid',
  'unchecked',
] as const);

/** Offsets Kafka no longer holds (retention) that this partition's views never saw. */
export interface LostRange {
  /** first missing offset */
  from: number;
  /** first offset that was still there */
  to: number;
  /** Kafka timestamp of the record at `to`: events before the loss may be missing up to here */
  untilTs: number;
}

export interface SpeedApply {
  partition: number;
  /** the stored next offset this batch was planned against */
  expectedNext: number;
  /** last offset of the batch + 1 */
  newNext: number;
  /** the pre-aggregated groups (every view, every granularity) */
  groups: readonly GroupState[];
  /** drift counters of some of `groups` (only groups with a non-zero counter appear) */
  counters: ReadonlyMap<GroupState, GroupCounters>;
  /** first copies of late-class events, per group they count in (one entry per view and granularity) */
  lateClass: readonly LateClassEntry[];
  /** added to the partition's running totals */
  totals: SpeedTotals;
  /** `totals.invalid` by reason, added to the partition's running totals beside it (absent or empty: none) */
  invalidByReason?: ReadonlyMap<InvalidReason, number>;
  /** set when the batch starts past a range Kafka deleted before it was read */
  lost?: LostRange;
  /** the partition's new coveredSince, when a loss moves it forward (never backward) */
  coveredSince?: number;
  nowMs: number;
}

/** One valid record to claim its event id for (cross-partition dedupe). */
export interface ClaimItem {
  offset: number;
  id: string;
  /** event time */
  ts: number;
}

/** Per record of a claim: 0 owns its id, 1 a duplicate of a copy claimed first, 2 not checked. */
export const CLAIM_OWNED = 0;
export const CLAIM_DUPLICATE = 1;
export const CLAIM_UNCHECKED = 2;

/**
 * The dedupe window rule: an id is remembered in the claims of its event's UTC hour until
 * `windowMs` after that hour ends. A copy that reaches Kafka later than that (by its Kafka
 * timestamp, so a replay decides the same way) is applied without a check and counted as
 * unchecked per bucket. Deterministic per record: exactly-once holds through replays.
 */
export function beyondDedupeWindow(eventTs: number, arrivalTs: number, windowMs: number): boolean {
  return arrivalTs > claimHourEnd(eventTs) + windowMs;
}

export function claimHourEnd(eventTs: number): number {
  return Math.floor(eventTs / HOUR_MS) * HOUR_MS + HOUR_MS;
}
