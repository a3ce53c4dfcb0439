/**
 * The checkpoint file format (`checkpoints/<topic>-<partition>.json`), shared by every master
 * adapter. A damaged checkpoint is an error, never "no checkpoint": reading it as missing would make
 * the archiver start the partition over and write its records a second time under new names.
 */
import { z } from 'zod';
import { LambdaError } from '../../shared/errors.js';
import type { Checkpoint } from '../../shared/ports.js';

const offset = z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER);
const epochMs = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** An archive gap: offsets Kafka deleted before the archiver read them (docs/design-decisions.md). */
const gapSchema = z.strictObject({
  topic: z.string().min(1),
  partition: z.number().int().min(0),
  fromOffset: offset.min(0),
  toOffset: offset.min(0),
  detectedAt: epochMs,
});

const checkpointSchema = z.strictObject({
  version: z.literal(1),
  topic: z.string().min(1),
  partition: z.number().int().min(0),
  lastOffset: offset,
  completeThrough: epochMs,
  updatedAt: epochMs,
  // Optional, so checkpoints written before gaps were recorded still read (and mean "none").
  gaps: z.array(gapSchema).optional(),
});

export function encodeCheckpoint(cp: Checkpoint): string {
  const doc = {
    version: 1 as const,
    topic: cp.topic,
    partition: cp.partition,
    lastOffset: cp.lastOffset,
    completeThrough: cp.completeThrough,
    updatedAt: cp.updatedAt,
    ...(cp.gaps !== undefined && cp.gaps.length > 0
      ? { gaps: cp.gaps.map((g) => ({ topic: g.topic, partition: g.partition, fromOffset: g.fromOffset, toOffset: g.toOffset, detectedAt: g.detectedAt })) }
      : {}),
  };
  const checked = checkpointSchema.safeParse(doc);
  if (!checked.success) throw new LambdaError('STORAGE', `refusing to write an invalid checkpoint ${JSON.stringify(doc)}: ${checked.error.issues[0]?.message}`);
  return `${JSON.stringify(doc)}\n`;
}

/** `where` names the file in the error (a path or an object key). */
export function decodeCheckpoint(text: string, where: string): Checkpoint {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new LambdaError('STORAGE', `checkpoint ${where} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const parsed = checkpointSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LambdaError('STORAGE', `checkpoint ${where} is malformed: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  const { topic, partition, lastOffset, completeThrough, updatedAt, gaps } = parsed.data;
  return { topic, partition, lastOffset, completeThrough, updatedAt, ...(gaps !== undefined && gaps.length > 0 ? { gaps } : {}) };
}
