/**
 * The speed layer's status as the serving layer forwards it (series and status answers). The port
 * (shared/ports.ts SpeedStatus) promises coveredSince and each partition's offset; the Redis store
 * (adapters/redis/speed-status.ts) adds the consumer's reports and running totals, optional here
 * because another store need not have them.
 */
import { z } from 'zod';
import type { DedupeSource } from '../../../shared/speed/control.js';
import { count, coveredSince, enumOf, instant } from './common.js';

export const speedTotals = z.strictObject({
  events: count('events applied'),
  duplicatesSkipped: count('copies of an id already applied, skipped (dedupe on)'),
  duplicatesApplied: count('copies applied although the id had been seen (dedupe off)'),
  late: count('events applied after their bucket was behind the published batch watermark'),
  invalid: count('invalid records (sent to the DLQ)'),
  unchecked: count('events applied without a dedupe check (past the dedupe window)'),
  lostOffsets: count('offsets Kafka deleted before the speed layer read them'),
  invalidByReason: z
    .record(z.string(), count('records'))
    .describe('`invalid` by reason (InvalidReason), counted exactly once like the other totals')
    .optional(),
});

export const dedupeSource = enumOf<DedupeSource>()(['LAMBDA_SPEED_DEDUPE', 'admin']).describe(
  "where the consumer's dedupe setting comes from: its own LAMBDA_SPEED_DEDUPE, or the admin's runtime switch (PUT /api/v1/admin/speed/dedupe)",
);

/** What the consumer of a partition obeys (issue 20): the runtime control it last read. */
export const controlReport = z
  .strictObject({
    dedupe: z.boolean().describe('the dedupe it applies now'),
    dedupeFrom: dedupeSource,
    paused: z.boolean().describe('its consumer is paused and applies nothing (PUT /api/v1/admin/speed/pause)'),
    controlVersion: count('the version of the runtime control it obeys'),
  })
  .describe("the runtime control the partition's consumer obeys, as of its last report");

/** The runtime control as stored: what every speed instance is to obey. */
export const speedControl = z
  .strictObject({
    dedupe: z.boolean().nullable().describe('dedupe forced on or off by an admin; null: each instance follows its LAMBDA_SPEED_DEDUPE'),
    paused: z.boolean().describe('the speed consumers are to pause fetching'),
    version: count('raised by every change; each partition reports the version its consumer obeys (controlVersion)'),
    updatedAt: instant('when it last changed; null if never').nullable(),
  })
  .describe("the speed layer's runtime control (Redis), set through the admin API");

export const speedPartition = z.strictObject({
  partition: count('Kafka partition of the event topic'),
  offset: count('next offset to apply (authoritative, from the partition state)'),
  lag: count('records behind the partition end; absent when unknown (no fresh report of the end)').optional(),
  highWatermark: count("partition end at the consumer's last report; null if never reported").nullable().optional(),
  coveredSince: instant("event time from which this partition's views are complete").optional(),
  maxEventTs: instant('newest event time applied; null before the first').nullable().optional(),
  updatedAt: instant('when the consumer last reported this partition; null if it never did').nullable().optional(),
  reportAgeMs: count('milliseconds since that report; null if never reported').nullable().optional(),
  stale: z.boolean().describe('no report for longer than the stale limit: the consumer died or left the group').optional(),
  caughtUp: z.boolean().nullable().describe('applied everything up to the last reported end, and the report is fresh; null when unknown').optional(),
  instance: z.string().nullable().describe('the consumer that last reported this partition').optional(),
  control: controlReport.optional(),
  totals: speedTotals.optional(),
  lastLost: z
    .strictObject({
      from: count('first missing offset'),
      to: count('first offset that was still there'),
      untilTs: instant('Kafka timestamp of the record at `to`: events before the loss may be missing up to here'),
    })
    .nullable()
    .describe('the last range Kafka deleted before the speed layer read it, if any')
    .optional(),
});

/** The fields of a speed status, without its `source` (the status answer adds one). */
export const speedStatusFields = {
  coveredSince,
  partitions: z.array(speedPartition),
  lateArrivals: count('late events applied, all partitions').optional(),
  topicPartitions: count('partitions of the topic as the consumer last saw them; null before the first start').nullable().optional(),
  eventTimeLagMs: count('now minus the newest event time applied; null before the first').nullable().optional(),
  replays: z
    .array(
      z.strictObject({
        partition: count('Kafka partition of the event topic'),
        from: count('the offset Redis held: the replay started here'),
        to: count('the offset the consumer had applied up to (exclusive)'),
        records: count('records applied again (to - from)'),
        detectedAt: instant('when the consumer noticed'),
        instance: z.string().describe('the consumer that noticed'),
        detectedBy: z.enum(['audit', 'fetch']).describe('the periodic check of the stored offsets, or a fetch that found Redis behind'),
      }),
    )
    .describe(
      'the last times a speed consumer found Redis holding an older offset than it had applied (Redis lost writes: a failover, an older file) and applied those records again from Kafka, newest first; their lost effects went with the offset, so nothing is counted twice',
    )
    .optional(),
  control: speedControl.optional(),
};

export type SpeedPartition = z.infer<typeof speedPartition>;
export type SpeedControlAnswer = z.infer<typeof speedControl>;
