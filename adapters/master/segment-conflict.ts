/**
 * A segment write that would replace a different segment of the same name (docs/design-decisions.md,
 * "Master dataset and archiver": fenced segment writes). Both adapters create a segment only if its
 * name is free; an existing object with the same bytes is an idempotent replay, one with other bytes
 * is refused with this error. `existing` identifies the object found (S3: its ETag; files: the
 * SHA-256 of its bytes), so a caller that proved it owns the partition can replace exactly that
 * object and nothing written after it (MasterDataset.writeSegment's `replacing`). Recognising the
 * error is the port's contract: shared/segment-conflict.ts.
 */
import { LambdaError } from '../../shared/errors.js';
import { asSegmentConflict, type SegmentConflict } from '../../shared/segment-conflict.js';

export { asSegmentConflict, type SegmentConflict };

export function segmentConflictError(key: string, existing: string, where: string): LambdaError {
  return new LambdaError('CONFLICT', `master dataset ${where}: ${key} already holds a different segment; not overwritten`, {
    details: { segmentConflict: true, key, existing },
  });
}
