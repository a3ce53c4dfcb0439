/**
 * The batch watermark (docs/design-decisions.md §5): W = floor_to_minute(A - allowedLateness), where A is the
 * master dataset's arrivalComplete (min over partitions of completeThrough).
 *
 * Every event that ARRIVED before A is in the files the run read; an event whose time is before
 * A - allowedLateness is assumed to have arrived before A (it was at most allowedLateness late).
 * So buckets ending at or before W are whole in this run, and the serving layer takes them from
 * the batch view (start < floor_g(W)).
 *
 * When A is unknown (a partition of the topic has no checkpoint; or no checkpoint at all and no
 * completed import to stand in for one) the run still computes and publishes its views, but claims
 * nothing new: W stays at the previous run's or is NO_WATERMARK = 0 (the epoch), as decided in
 * completeness.ts. With W = 0 every bucket starts at or after B_g = 0, so the serving layer answers
 * everything from the speed layer, exactly as if no batch run existed, while the run's views stay
 * inspectable (and comparable for drift). The same holds when A - lateness is before the epoch. The
 * port types W as a number, so 0 rather than null.
 */
import { floorToMinute } from '../../shared/time.js';

export const NO_WATERMARK = 0;

export function computeWatermark(arrivalComplete: number | null, allowedLatenessMs: number): number {
  if (arrivalComplete === null) return NO_WATERMARK;
  const t = arrivalComplete - allowedLatenessMs;
  return t <= 0 ? NO_WATERMARK : floorToMinute(t);
}
