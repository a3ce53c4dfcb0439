/**
 * Messages between the batch run's main thread and its map workers.
 *
 *   main -> worker: `file` (map this master file; a worker holds up to two queued),
 *                   `keep` (dedupe answer for one chunk), `finish` (send your partial and stop)
 *   worker -> main: `chunk` (ids of the next parsed chunk; `last` = the file is fully read),
 *                   `partial` (the worker's aggregate once finished), `failed`
 *
 * Ids travel as a string array (structured clone), never joined with a separator: a JSON string
 * may contain any character, newlines included. The hash arrays are transferred, not copied.
 */
import { isLambdaError, LambdaError, type ErrorCode } from '../../shared/errors.js';
import type { PlainAggregate } from '../../shared/aggregate/aggregate.js';
import type { WorkerMasterRef } from '../../shared/batch/ports.js';

export interface MapWorkerInit {
  /** the views as a document (views-text.ts); the worker re-loads it (a ViewSet does not cross threads) */
  viewsJson: string;
  viewsSource: string;
  /** ViewSet.hash on the main thread: the worker checks it re-loaded the same definitions */
  viewsHash: string;
  /** how the worker opens the master dataset: a module URL and plain location data, cloned into the worker (cli/ picks the module) */
  master: WorkerMasterRef;
  /** valid events per dedupe chunk */
  chunkEvents: number;
  /** chunks sent but not yet answered, per worker: keeps the worker busy while main answers */
  maxChunksInFlight: number;
  /** artificial pause after each file (LAMBDA_BATCH_FILE_DELAY_MS); 0 in production */
  fileDelayMs: number;
}

export type ToWorker = { type: 'file'; fileIndex: number; key: string } | { type: 'keep'; chunkId: number; keep: Uint8Array } | { type: 'finish' };

export interface ChunkMessage {
  type: 'chunk';
  chunkId: number;
  fileIndex: number;
  /** true on the file's final chunk (possibly empty): the worker is ready for more work */
  last: boolean;
  /** records read since the previous chunk, valid or not */
  records: number;
  ids: string[];
  idHashes: Uint32Array;
  payloadHashes: Uint32Array;
}

export interface PartialMessage {
  type: 'partial';
  aggregate: PlainAggregate;
  invalid: Record<string, number>;
}

export interface SerializedError {
  name: string;
  message: string;
  code?: ErrorCode;
  details?: Record<string, unknown>;
  stack?: string;
}

export type FromWorker = ChunkMessage | PartialMessage | { type: 'failed'; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  if (isLambdaError(err)) return { name: err.name, message: err.message, code: err.code, details: err.details, stack: err.stack };
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, message: e.message, stack: e.stack };
}

/** Rebuilds a worker's error on the main thread; non-LambdaErrors become INTERNAL with their message. */
export function deserializeError(e: SerializedError, where: string): LambdaError {
  const err = new LambdaError(e.code ?? 'INTERNAL', `${where}: ${e.message}`, e.details === undefined ? {} : { details: e.details });
  if (e.stack !== undefined) err.stack = `${err.name}: ${err.message}\n(worker stack)\n${e.stack}`;
  return err;
}
