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

const checkpointSchema = z.strictObject({
  version: z.literal(1),
  topic: z.string().min(1),
  partition: z.number().int().min(0),
  lastOffset: offset,
  completeThrough: epochMs,
  updatedAt: epochMs,
});

export function encodeCheckpoint(cp: Checkpoint): string {
  const doc = { version: 1 as const, topic: cp.topic, partition: cp.partition, lastOffset: cp.lastOffset, completeThrough: cp.completeThrough, updatedAt: cp.updatedAt };
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
  const { topic, partition, lastOffset, completeThrough, updatedAt } = parsed.data;
  return { topic, partition, lastOffset, completeThrough, updatedAt };
}
