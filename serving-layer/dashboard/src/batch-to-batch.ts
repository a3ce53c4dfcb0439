/**
 * The sentence under the drift table about the last two batch runs. It keeps apart what the
 * API keeps apart (docs/design-decisions.md, Dashboard): late events absorbed into buckets the
 * previous run already served, and buckets newly covered because W moved. Pure (no DOM), so it
 * is unit-tested beside the API numbers it words.
 */
import type { DriftAnswer } from './api.js';
import { fmtCount, fmtInstant } from './format.js';

type BatchToBatch = DriftAnswer['batchToBatch'];
/** The comparison of two runs: the answer's shape when neither `note` nor `unavailable` is there. */
type Compared = Extract<BatchToBatch, { newlyCovered: unknown }>;

export function batchToBatchText(b: BatchToBatch): string {
  if ('note' in b) return `Batch to batch: ${b.note}.`;
  const runs = `between run ${b.previousRunId} and run ${b.latestRunId}`;
  if ('unavailable' in b) return `Batch to batch: ${runs}, no comparison: ${b.unavailable}.`;
  const late = `${fmtCount(b.lateEventsAbsorbed)} late event(s) were absorbed into buckets the previous run already served (${fmtCount(b.rowsChanged)} row(s) changed)`;
  return `Batch to batch: ${runs}, ${late}; ${newlyCoveredText(b)}.`;
}

function newlyCoveredText(b: Compared): string {
  const w = b.watermarks;
  const nc = b.newlyCovered;
  if (w.previous === w.latest) return `no bucket newly covered: W stayed at ${fmtInstant(w.latest)}`;
  if (w.latest < w.previous) return `W moved back from ${fmtInstant(w.previous)} to ${fmtInstant(w.latest)}`;
  if (b.boundaries.previous === b.boundaries.latest) {
    return `no bucket newly covered: at this granularity W stayed in the bucket of ${fmtInstant(b.boundaries.latest)}`;
  }
  return `${fmtCount(nc.buckets)} bucket(s) newly covered (${fmtCount(nc.events)} event(s)) as W moved from ${fmtInstant(w.previous)} to ${fmtInstant(w.latest)}`;
}
