/**
 * Batch runs as the catalog keeps them (GET /api/v1/batch/runs, and in the status), the run in
 * progress, and the answer to POST /api/v1/batch/runs. The port (shared/ports.ts BatchRunInfo)
 * promises the required fields; the SQLite catalog's record (shared/batch/run-record.ts) adds
 * the optional ones.
 */
import { z } from 'zod';
import { count, instant } from './common.js';

const archiveGap = z.strictObject({
  topic: z.string(),
  partition: count('partition'),
  fromOffset: count('first offset lost'),
  toOffset: count('last offset lost (inclusive)'),
  detectedAt: instant('when the archiver noticed'),
});

const completeness = z
  .strictObject({
    gaps: z.array(archiveGap).describe('offsets Kafka deleted before the archiver read them: their events are missing from the run'),
    partitionsFrom: z
      .enum(['kafka', 'fallback'])
      .optional()
      .describe("where the list of partitions came from: Kafka's metadata, or the checkpoints and the configured count"),
    partitionsNote: z.string().optional().describe('why Kafka could not be asked (fallback only)'),
    partitions: z.array(count('partition')).optional().describe('the partitions A is the minimum over'),
    missingCheckpoints: z.array(count('partition')).optional().describe('partitions without a checkpoint (they make A unknown)'),
    arrivalFrom: z.enum(['archiver', 'imports', 'none']).optional().describe('what A rests on'),
    watermarkFrom: z.enum(['arrival', 'previous-run', 'none']).optional().describe("what W rests on: A, the previous run's W (A unknown), or nothing (W = 0)"),
    imports: z.strictObject({ completed: count('completed backfill imports'), latestCompletedAt: instant('when the latest completed').nullable() }).optional(),
    note: z.string().optional().describe('a sentence when A or W is not simply min(completeThrough)'),
  })
  .describe('how the run arrived at A and W');

const ms = (what: string) => count(`${what}, ms`);

export const batchRun = z.strictObject({
  runId: z.string(),
  watermark: instant('W = floor_to_minute(A - allowed lateness)'),
  arrivalComplete: instant('A = min over partitions of completeThrough; null when no checkpoint existed').nullable(),
  startedAt: instant('when the run started'),
  finishedAt: instant('when the run was published'),
  counts: z.strictObject({
    files: count('master files read'),
    eventsRead: count('records read, valid or not'),
    invalid: z.record(z.string(), count('records')).describe('invalid records by reason (InvalidReason)'),
    duplicates: count('copies of an id dropped (the run keeps one per id)'),
    groups: count('view rows written'),
    duplicatesDifferingPayload: count('duplicate ids whose raw line differed from the kept one; should be 0').optional(),
    bytesRead: count('compressed bytes of the master files read').optional(),
    eventsKept: count('valid, first-seen events folded into the views').optional(),
    sketches: count(
      'HyperLogLog sketches of distinct measures written (one per group and distinct measure with members); absent when the run keeps none (LAMBDA_BATCH_SKETCHES=false, or an older run)',
    ).optional(),
  }),
  viewsHash: z.string().describe('hash of the view definitions the run computed'),
  snapshot: z
    .strictObject({
      at: instant('when the run read the checkpoints'),
      through: z.record(z.string(), z.int()).describe('partition -> last offset read (inclusive)'),
    })
    .optional()
    .describe('what the run read (absent in runs of older versions)'),
  completeness: completeness.optional(),
  timings: z
    .strictObject({
      snapshotMs: ms('checkpoints and file listing'),
      mapMs: ms('read, parse, validate, dedupe, aggregate'),
      mergeMs: ms("merging the workers' aggregates"),
      writeMs: ms("writing the run's SQLite file").nullable(),
      publishMs: ms('the catalog transaction that publishes it, and pruning').nullable(),
      totalMs: ms('the whole run').nullable(),
    })
    .optional(),
  workers: count('worker threads that mapped the files').optional(),
  engine: z.enum(['reference', 'duckdb', 'spark']).optional().describe('the batch engine that computed the run (LAMBDA_BATCH_ENGINE)'),
  viewsSource: z.string().optional().describe('the views file the run computed'),
});

/** Where a run in flight is (batch-layer progress, kept in the catalog lease). */
export const runProgress = z.strictObject({
  phase: z.enum(['starting', 'snapshot', 'map', 'merge', 'write', 'publish']),
  filesDone: count('master files finished'),
  filesTotal: count('master files to read'),
  bytesDone: count('compressed bytes of the finished files'),
  bytesTotal: count('compressed bytes to read'),
  eventsRead: count('records read so far'),
  updatedAt: instant('when the run last reported'),
});

export const runningBatch = z
  .strictObject({
    runId: z.string(),
    startedAt: instant('when it started'),
    progress: runProgress.nullable().describe('null until the run reports'),
    pid: z.int().describe('process id of the process running it'),
    hostname: z.string().describe('host of that process'),
    inThisProcess: z.boolean().describe('whether this server process runs it'),
  })
  .describe('the run in progress in any process (from the catalog lease)');

export const runsAnswer = z.strictObject({
  runs: z.array(batchRun).describe('the kept runs, newest first; the first is the published one'),
  running: runningBatch.nullable().describe('the run in progress, or null'),
});

export const batchStarted = z.strictObject({
  started: z.literal(true),
  runId: z.string().nullable().describe('the run started (null if it ended before reporting its id)'),
  progress: z.string().describe('where to follow it: GET /api/v1/batch/runs'),
});

export type BatchRun = z.infer<typeof batchRun>;
export type RunProgress = z.infer<typeof runProgress>;
export type RunningBatch = z.infer<typeof runningBatch>;
export type RunsAnswer = z.infer<typeof runsAnswer>;
export type BatchStarted = z.infer<typeof batchStarted>;
