/**
 * How a caller of MasterDataset.writeSegment (shared/ports.ts) recognises a refused segment write
 * (docs/design-decisions.md §4, "Fenced segment writes"): a LambdaError CONFLICT whose details name
 * the key and `existing`, the identity of the object found (S3: its ETag; files: the SHA-256 of
 * its bytes), which `replacing` takes to replace exactly that object. The adapters make the error
 * (adapters/master/segment-conflict.ts); the archiver reads it here, without importing an adapter.
 */
import { LambdaError } from './errors.js';

export interface SegmentConflict {
  key: string;
  existing: string;
}

export function asSegmentConflict(err: unknown): SegmentConflict | null {
  if (!(err instanceof LambdaError) || err.code !== 'CONFLICT' || err.details?.segmentConflict !== true) return null;
  const { key, existing } = err.details;
  return typeof key === 'string' && typeof existing === 'string' ? { key, existing } : null;
}
