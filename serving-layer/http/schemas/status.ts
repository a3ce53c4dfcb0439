/** GET /api/v1/status: each layer's health and numbers, each group naming its source (serving-layer/routes/admin.ts). */
import { z } from 'zod';
import { count, instant } from './common.js';
import { batchRun, runningBatch } from './runs.js';
import { speedStatusFields } from './speed.js';
import { dedupeSummary } from './speed-admin.js';

/** Each group names the store its numbers come from. */
const source = (store: string) => z.string().describe(`the store the numbers come from (${store})`);

/** A group whose store could not be read: the reason instead of the numbers. */
const failed = (store: string) => z.strictObject({ source: source(store), error: z.string().describe('why the numbers could not be read') });

export const statusAnswer = z.strictObject({
  health: z.record(z.string(), z.boolean()).describe('dependency -> answers (redis, kafka)'),
  batch: z.strictObject({
    source: source('the batch catalog'),
    lastRun: batchRun.nullable().describe('the published run; null before the first'),
    watermark: instant('W of the published run; null before the first').nullable(),
    keptRuns: z.array(z.strictObject({ runId: z.string(), watermark: instant('W'), finishedAt: instant('published at') })).describe('newest first'),
    running: runningBatch.nullable().describe('the run in progress, or null (also null when this process cannot tell)'),
    schedule: z.string().describe('the batch cron expression (LAMBDA_BATCH_CRON)'),
  }),
  speed: z.union([z.strictObject({ source: source('Redis'), ...speedStatusFields, dedupe: dedupeSummary.optional() }), failed('Redis')]),
  deadLetters: z
    .union([
      z.strictObject({
        source: source("Kafka: the dead-letter topic's offsets"),
        topic: z.string().describe('the dead-letter topic (<topic>.dlq)'),
        records: count(
          'records it holds now (end minus log start, all partitions): one letter per invalid record from each layer that read it (speed layer, archiver), at least once',
        ),
      }),
      failed("Kafka: the dead-letter topic's offsets"),
    ])
    .optional()
    .describe('the dead-letter topic; absent when this process cannot tell'),
  master: z.union([
    z.strictObject({
      source: source('a listing of the master dataset'),
      describe: z.string().describe('where it is, e.g. file:///data/master or s3://bucket/prefix'),
      files: count('files'),
      bytes: count('compressed bytes'),
    }),
    failed('a listing of the master dataset'),
  ]),
  config: z.strictObject({
    topic: z.string().describe('the event topic'),
    allowedLatenessMs: count('LAMBDA_ALLOWED_LATENESS_MS'),
    speedDedupe: z
      .boolean()
      .describe(
        'LAMBDA_SPEED_DEDUPE of this process; what the speed instances apply (an admin may switch it at runtime) is speed.dedupe and speed.partitions[].control',
      ),
  }),
});

export type StatusAnswer = z.infer<typeof statusAnswer>;
