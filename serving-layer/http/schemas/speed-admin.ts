/**
 * The admin's runtime tools of issue 20 (serving-layer/routes/speed-admin.ts): the speed layer's
 * dedupe switch and pause, and the raw ingest that reaches the dead-letter topic.
 */
import { z } from 'zod';
import { count } from './common.js';
import { dedupeSource, speedControl } from './speed.js';

export const dedupeChange = z.strictObject({
  enabled: z
    .boolean()
    .nullable()
    .describe('true or false: every speed instance dedupes (or not) from its next fetch; null: each follows its LAMBDA_SPEED_DEDUPE again'),
});

export const pauseChange = z.strictObject({
  paused: z.boolean().describe('true: every speed consumer pauses fetching (the lag grows, nothing is applied); false: they resume where they stopped'),
});

export const speedControlChanged = z.strictObject({
  control: speedControl,
  note: z.string().describe('when the instances obey it, and how to see that they do'),
});

/** The dedupe the speed instances report they apply, over the partitions with a fresh report. */
export const dedupeSummary = z
  .strictObject({
    effective: z.boolean().nullable().describe('what every fresh report says; null when they disagree (a change on its way) or there is none'),
    from: dedupeSource.nullable().describe('where it comes from, when every fresh report agrees'),
  })
  .describe('the speed dedupe in effect, as the consumers report it (speed.partitions[].control has each one)');

export const rawIngestAnswer = z.strictObject({
  produced: count('records produced to the event topic, unvalidated'),
  topic: z.string().describe('the event topic'),
  key: z.string().nullable().describe('the Kafka key every record got (query parameter `key`); null: each record its own id when it has one, else none'),
  partition: z.number().int().nullable().describe('the partition every record went to (query parameter `partition`); null: the key decided'),
});

export type SpeedControlChanged = z.infer<typeof speedControlChanged>;
export type RawIngestAnswer = z.infer<typeof rawIngestAnswer>;
