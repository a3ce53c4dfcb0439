/**
 * Where a partition starts on its very first start (nothing stored in Redis yet), and from which
 * event time its views are then complete (`coveredSince`, docs/design-decisions.md §6). The seek is by Kafka
 * timestamp (offsetsForTimes): an event's time is at or before its append time, so every event
 * with ts >= the seek timestamp is at or after the offset found.
 *
 * - 'day-before': the start of the previous UTC day, so the day bucket before today is whole (the
 *   coarsest bucket the speed layer may serve before a batch run covers it);
 * - 'earliest':   the start of the log; coveredSince = 0 (complete since the epoch, as long as the
 *   topic's retention has not deleted anything);
 * - 'now':        only what arrives from now on; coveredSince = now.
 */
import { DAY_MS, floorTo } from '../shared/time.js';

export type CoverFrom = 'day-before' | 'earliest' | 'now';

export function coverageStart(coverFrom: CoverFrom, nowMs: number): { seekTimestamp: number; coveredSince: number } {
  switch (coverFrom) {
    case 'earliest':
      return { seekTimestamp: 0, coveredSince: 0 };
    case 'now':
      return { seekTimestamp: nowMs, coveredSince: nowMs };
    case 'day-before': {
      const t = floorTo(nowMs, 'day') - DAY_MS;
      return { seekTimestamp: t, coveredSince: t };
    }
  }
}
