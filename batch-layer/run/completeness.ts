/**
 * What a batch run may claim (docs/design-decisions.md §5, docs/design-decisions.md "Batch layer"): the arrival
 * completeness A of its snapshot and the watermark W derived from it, with the reasons recorded
 * in the run record. Pure: the run reads the checkpoints and asks Kafka, this decides.
 *
 * - Partitions: the topic's real partitions as Kafka reports them at the snapshot, together with
 *   every partition that has a checkpoint. When Kafka cannot be asked, the partitions that have a
 *   checkpoint plus 0..LAMBDA_TOPIC_PARTITIONS-1 (`partitionsFrom: 'fallback'`, with the reason);
 *   the same list when Kafka has no such topic yet (it will be created with the configured count).
 * - A partition of the topic without a checkpoint has unknown completeness, so A is unknown. W then
 *   stays where the previous published run put it, if that run counted the partitions Kafka
 *   reported (every partition that appeared since was created after that snapshot, so none of its
 *   records arrived before the old A); otherwise W = 0.
 * - Backfill imports (pseudo topics `import.*`): their events all arrived when the import ran. With
 *   no archiver checkpoint at all (a batch-only deployment), A = the completion time of the latest
 *   completed import, unless Kafka reports records in the topic (then an archiver has work nobody
 *   has vouched for, and A stays unknown). With archiver checkpoints, imports neither hold A back
 *   nor push it past the archiver: A is the archiver's alone.
 * - Gaps: offset ranges the archiver recorded as lost to retention are listed, so a reader can name
 *   the affected arrival time as incomplete; they do not hold A back (nothing can fill them).
 */
import { arrivalCompleteOver } from '../../shared/master/arrival-complete.js';
import { isImportTopic } from '../../shared/master/layout.js';
import type { RunCompleteness } from '../../shared/batch/run-record.js';
import type { Checkpoint, MasterFile, RunSnapshot } from '../../shared/ports.js';
import { computeWatermark, NO_WATERMARK } from './watermark.js';

export type { RunCompleteness };

export type TopicView = { source: 'kafka'; exists: boolean; partitions: readonly number[]; hasRecords: boolean } | { source: 'fallback'; reason: string };

export interface PreviousRun {
  watermark: number;
  completeness?: Pick<RunCompleteness, 'partitionsFrom'>;
}

export interface CompletenessInput {
  topic: string;
  checkpoints: readonly Checkpoint[];
  topicView: TopicView;
  configuredPartitions: number;
  previous: PreviousRun | null;
  allowedLatenessMs: number;
}

export interface CompletenessDecision {
  arrivalComplete: number | null;
  watermark: number;
  completeness: RunCompleteness;
}

export function decideCompleteness(input: CompletenessInput): CompletenessDecision {
  const { topic, checkpoints, topicView } = input;
  const archiver = checkpoints.filter((c) => c.topic === topic);
  const imports = checkpoints.filter((c) => isImportTopic(c.topic));
  const checkpointed = archiver.map((c) => c.partition);
  const configured = Array.from({ length: input.configuredPartitions }, (_, p) => p);
  // A topic Kafka does not have (yet) will be created with the configured count.
  const listed = topicView.source === 'kafka' && topicView.exists ? [...topicView.partitions, ...checkpointed] : [...checkpointed, ...configured];
  const partitions = [...new Set(listed)].sort((a, b) => a - b);
  const latestImport = imports.length === 0 ? null : Math.max(...imports.map((c) => c.updatedAt));
  const gaps = archiver.flatMap((c) => c.gaps ?? []).sort((a, b) => a.partition - b.partition || a.fromOffset - b.fromOffset);

  let A: number | null = null;
  let arrivalFrom: RunCompleteness['arrivalFrom'] = 'none';
  let missing: number[] = [];
  let note: string | undefined;
  if (archiver.length === 0) {
    missing = partitions;
    if (latestImport === null) note = 'no checkpoint yet: nothing is vouched for';
    else if (topicView.source === 'kafka' && topicView.hasRecords)
      note = `topic ${topic} holds records that no archiver has checkpointed: imports alone cannot vouch for them`;
    else {
      A = latestImport;
      arrivalFrom = 'imports';
      missing = [];
      note = 'no archiver checkpoint: A is the completion time of the latest import';
    }
  } else {
    const over = arrivalCompleteOver(checkpoints, topic, partitions);
    missing = over.missing;
    A = over.arrivalComplete;
    if (A !== null) arrivalFrom = 'archiver';
    else note = `partition(s) ${missing.join(', ')} of ${topic} have no checkpoint: their completeness is unknown`;
  }

  let W: number;
  let watermarkFrom: RunCompleteness['watermarkFrom'];
  if (A !== null) {
    W = computeWatermark(A, input.allowedLatenessMs);
    watermarkFrom = W === NO_WATERMARK ? 'none' : 'arrival';
  } else if (input.previous !== null && input.previous.completeness?.partitionsFrom === 'kafka' && input.previous.watermark > NO_WATERMARK) {
    W = input.previous.watermark;
    watermarkFrom = 'previous-run';
    note = `${note ?? 'A is unknown'}; W stays at the previous run's`;
  } else {
    W = NO_WATERMARK;
    watermarkFrom = 'none';
  }

  const completeness: RunCompleteness = {
    partitionsFrom: topicView.source,
    ...(topicView.source === 'fallback' ? { partitionsNote: topicView.reason } : {}),
    partitions,
    missingCheckpoints: missing,
    arrivalFrom,
    watermarkFrom,
    imports: { completed: imports.length, latestCompletedAt: latestImport },
    gaps,
    ...(note !== undefined ? { note } : {}),
  };
  return { arrivalComplete: A, watermark: W, completeness };
}

/**
 * The files a run reads: exactly what its checkpoints vouch for. A segment of a (topic, partition)
 * that has a checkpoint is read when it starts at or below the checkpoint's last offset (segments
 * never straddle a checkpoint); a later one (written after the checkpoints were read, or an orphan
 * of a crashed flush) waits for the next run. Segments of a partition with no checkpoint at all are
 * read as before (their completeness is unknown, which holds W back). So for every checkpointed
 * partition the run holds exactly the offsets up to `through`, which lets the drift report tell
 * exactly which events a run cannot have.
 */
export function vouchedFiles(files: readonly MasterFile[], checkpoints: readonly Checkpoint[]): MasterFile[] {
  const last = new Map(checkpoints.map((c) => [`${c.topic}\u0000${c.partition}`, c.lastOffset]));
  return files.filter((f) => {
    const through = last.get(`${f.topic}\u0000${f.partition}`);
    return through === undefined || f.firstOffset <= through;
  });
}

/** The run's snapshot for the event topic: when the checkpoints were read, and their last offsets. */
export function runSnapshot(topic: string, checkpoints: readonly Checkpoint[], at: number): RunSnapshot {
  const through: Record<string, number> = {};
  for (const c of checkpoints) if (c.topic === topic) through[String(c.partition)] = c.lastOffset;
  return { at, through };
}
