/**
 * The map phase of a batch run on the main thread: hands master files to worker threads, answers
 * their dedupe questions, and collects their partial aggregates.
 *
 * Scheduling: files go out largest first (longest-processing-time first balances the workers),
 * and every worker holds up to two files, so it starts the next one while main still answers the
 * last chunks of the previous one. The dedupe state stays on this thread (see dedupe.ts): every
 * chunk's ids are checked here in arrival order, which makes the cross-file dedupe exact whatever
 * worker read which file.
 */
import type { Worker } from 'node:worker_threads';
import { LambdaError } from '../../shared/errors.js';
import type { PlainAggregate } from '../../shared/aggregate/aggregate.js';
import type { MasterFile } from '../../shared/ports.js';
import type { IdDeduper } from './dedupe.js';
import { deserializeError, type ChunkMessage, type FromWorker, type MapWorkerInit, type ToWorker } from './map-protocol.js';
import { spawnWorker } from './spawn-worker.js';

const WORKER_URL = new URL('./map-worker.ts', import.meta.url);
const FILES_QUEUED_PER_WORKER = 2;

export interface MapProgress {
  filesDone: number;
  bytesDone: number;
  recordsRead: number;
}

export interface MapOptions {
  files: readonly MasterFile[];
  workers: number;
  init: MapWorkerInit;
  deduper: IdDeduper;
  onProgress: (p: MapProgress) => void;
  signal?: AbortSignal;
}

export interface MapResult {
  partials: PlainAggregate[];
  invalid: Record<string, number>;
  recordsRead: number;
  workers: number;
}

interface WorkerSlot {
  worker: Worker;
  queued: number;
  finished: boolean;
}

export async function mapFiles(opts: MapOptions): Promise<MapResult> {
  const files = [...opts.files].map((f, index) => ({ f, index })).sort((a, b) => b.f.sizeBytes - a.f.sizeBytes);
  const n = Math.max(1, Math.min(opts.workers, files.length));
  if (files.length === 0) return { partials: [], invalid: {}, recordsRead: 0, workers: 0 };
  const slots: WorkerSlot[] = [];
  const progress: MapProgress = { filesDone: 0, bytesDone: 0, recordsRead: 0 };
  const partials: PlainAggregate[] = [];
  const invalid: Record<string, number> = {};
  let next = 0;

  try {
    return await new Promise<MapResult>((resolve, reject) => {
      let failed = false;
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        reject(err);
      };
      opts.signal?.addEventListener('abort', () => fail(opts.signal?.reason), { once: true });
      if (opts.signal?.aborted) fail(opts.signal.reason);

      const send = (slot: WorkerSlot, msg: ToWorker) => slot.worker.postMessage(msg);
      const feed = (slot: WorkerSlot) => {
        while (slot.queued < FILES_QUEUED_PER_WORKER && next < files.length) {
          const { f, index } = files[next++] as { f: MasterFile; index: number };
          slot.queued++;
          send(slot, { type: 'file', fileIndex: index, key: f.key });
        }
        if (slot.queued === 0 && next >= files.length && !slot.finished) {
          slot.finished = true;
          send(slot, { type: 'finish' });
        }
      };
      const onChunk = (slot: WorkerSlot, msg: ChunkMessage) => {
        const keep = opts.deduper.check(msg.ids, msg.idHashes, msg.payloadHashes);
        send(slot, { type: 'keep', chunkId: msg.chunkId, keep });
        progress.recordsRead += msg.records;
        if (msg.last) {
          slot.queued--;
          progress.filesDone++;
          progress.bytesDone += (opts.files[msg.fileIndex] as MasterFile).sizeBytes;
          opts.onProgress({ ...progress });
          feed(slot);
        }
      };
      const onMessage = (slot: WorkerSlot, msg: FromWorker) => {
        if (failed) return;
        try {
          if (msg.type === 'chunk') onChunk(slot, msg);
          else if (msg.type === 'failed') fail(deserializeError(msg.error, 'batch map worker'));
          else {
            partials.push(msg.aggregate);
            for (const [reason, count] of Object.entries(msg.invalid)) invalid[reason] = (invalid[reason] ?? 0) + count;
            if (partials.length === slots.length) resolve({ partials, invalid, recordsRead: progress.recordsRead, workers: slots.length });
          }
        } catch (err) {
          fail(err); // e.g. DEDUPE_BUDGET_EXCEEDED
        }
      };

      for (let i = 0; i < n && !failed; i++) {
        const slot: WorkerSlot = { worker: spawnWorker(WORKER_URL, opts.init), queued: 0, finished: false };
        slots.push(slot);
        slot.worker.on('message', (m: FromWorker) => onMessage(slot, m));
        slot.worker.on('error', (err) => fail(new LambdaError('INTERNAL', `batch map worker crashed: ${err.message}`, { cause: err })));
        slot.worker.on('exit', (code) => {
          if (!slot.finished || partials.length < slots.length) fail(new LambdaError('INTERNAL', `batch map worker exited early (code ${code})`));
        });
      }
      for (const slot of slots) feed(slot);
    });
  } finally {
    // Workers are done (partials received) or the run failed: either way none may outlive the run.
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
