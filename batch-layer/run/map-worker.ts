/**
 * A batch map worker (worker_threads). It streams the master files main assigns, parses and
 * validates every line (counting invalid ones by reason), and sends each chunk's ids to main for
 * the exact cross-file dedupe. While main answers, it goes on parsing the next chunks (up to
 * `maxChunksInFlight` outstanding); when an answer arrives it folds the kept events into its one
 * Aggregate (a combiner across all its files). On `finish` it sends the aggregate in plain form.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { Aggregate } from '../../shared/aggregate/aggregate.js';
import { parseProjectedLine } from '../../shared/events.js';
import type { Projection } from '../../shared/views/project.js';
import type { WorkerMasterModule } from '../../shared/batch/ports.js';
import type { MasterDataset } from '../../shared/ports.js';
import { fnv1a32 } from './fingerprint.js';
import { serializeError, type ChunkMessage, type FromWorker, type MapWorkerInit, type ToWorker } from './map-protocol.js';
import { viewSetFromValidatedText } from './worker-views.js';

if (parentPort === null) throw new Error('map-worker.ts must run in a worker thread');
const port = parentPort;
const init = workerData as MapWorkerInit;
const views = viewSetFromValidatedText(init.viewsJson, init.viewsSource, init.viewsHash);
const master = await openMaster(init.master);
const aggregate = new Aggregate();
const invalid: Record<string, number> = {};

/**
 * One chunk of valid events, kept until main answers which to fold: per event its id, time and
 * its projection through every view (computed while validating, so nothing is projected twice).
 */
interface Chunk {
  ids: string[];
  ts: number[];
  projections: (Projection | null)[][];
  payloadHashes: number[];
}

function emptyChunk(): Chunk {
  return { ids: [], ts: [], projections: [], payloadHashes: [] };
}

/** Chunks main has not answered yet. */
const inFlight = new Map<number, Chunk>();
let nextChunkId = 0;
let wakeSender: (() => void) | null = null;
const queue: ToWorker[] = [];
let wakeLoop: (() => void) | null = null;

/**
 * The worker cannot receive the main thread's MasterDataset: it imports the module the ref names
 * (cli/ chose it, adapters/master/worker-open.ts) and opens the dataset from the plain location.
 */
async function openMaster(ref: MapWorkerInit['master']): Promise<MasterDataset> {
  const module = (await import(ref.moduleUrl)) as WorkerMasterModule;
  return module.openWorkerMaster(ref.location);
}

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'keep') {
    // Applied at once, in the message handler: `finish` is sent after the last answer, so by the
    // time the loop sees it every chunk of this worker has been folded in.
    const chunk = inFlight.get(msg.chunkId);
    inFlight.delete(msg.chunkId);
    try {
      if (chunk !== undefined) fold(chunk, msg.keep);
    } catch (err) {
      // e.g. a sum leaving the exact-integer range: report it with its code, not as a crash.
      post({ type: 'failed', error: serializeError(err) });
    }
    wakeSender?.();
    return;
  }
  queue.push(msg);
  wakeLoop?.();
});

async function nextCommand(): Promise<ToWorker> {
  while (queue.length === 0) await new Promise<void>((r) => (wakeLoop = r));
  return queue.shift() as ToWorker;
}

/** Folds the events of `chunk` that main kept (first seen) into this worker's aggregate. */
function fold(chunk: Chunk, keep: Uint8Array): void {
  const defs = views.views;
  for (let i = 0; i < chunk.ids.length; i++) {
    if (keep[i] !== 1) continue;
    const ts = chunk.ts[i] as number;
    const projections = chunk.projections[i] as (Projection | null)[];
    for (let v = 0; v < projections.length; v++) {
      const p = projections[v];
      if (p !== null && p !== undefined) aggregate.addProjection(defs[v]!, ts, p);
    }
  }
}

async function sendChunk(fileIndex: number, last: boolean, records: number, chunk: Chunk): Promise<void> {
  while (inFlight.size >= init.maxChunksInFlight) await new Promise<void>((r) => (wakeSender = r));
  const chunkId = nextChunkId++;
  inFlight.set(chunkId, chunk);
  const idHashes = Uint32Array.from(chunk.ids, fnv1a32);
  const payload = Uint32Array.from(chunk.payloadHashes);
  const msg: ChunkMessage = { type: 'chunk', chunkId, fileIndex, last, records, ids: chunk.ids, idHashes, payloadHashes: payload };
  post(msg, [idHashes.buffer, payload.buffer]);
}

async function mapFile(fileIndex: number, key: string): Promise<void> {
  let chunk = emptyChunk();
  let records = 0;
  for await (const line of master.readLines(key)) {
    records++;
    const r = parseProjectedLine(line, views);
    if (!r.ok) {
      invalid[r.reason] = (invalid[r.reason] ?? 0) + 1;
      continue;
    }
    chunk.ids.push(r.event.id);
    chunk.ts.push(r.event.ts);
    chunk.projections.push(r.projections);
    chunk.payloadHashes.push(fnv1a32(line));
    if (chunk.ids.length >= init.chunkEvents) {
      await sendChunk(fileIndex, false, records, chunk);
      chunk = emptyChunk();
      records = 0;
    }
  }
  if (init.fileDelayMs > 0) await sleep(init.fileDelayMs);
  await sendChunk(fileIndex, true, records, chunk);
}

async function main(): Promise<void> {
  for (;;) {
    const cmd = await nextCommand();
    if (cmd.type === 'finish') break;
    if (cmd.type === 'file') await mapFile(cmd.fileIndex, cmd.key);
  }
  post({ type: 'partial', aggregate: aggregate.toPlain(), invalid });
}

main().catch((err: unknown) => post({ type: 'failed', error: serializeError(err) }));
