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
import { LambdaError } from '../../shared/errors.js';
import { parseEventLine, type LambdaEvent } from '../../shared/events.js';
import { loadViews } from '../../shared/views/load.js';
import { openMasterDataset } from '../../adapters/master/index.js';
import { silentLogger } from '../../platform/logger.js';
import { fnv1a32 } from './fingerprint.js';
import { serializeError, type ChunkMessage, type FromWorker, type MapWorkerInit, type ToWorker } from './map-protocol.js';

if (parentPort === null) throw new Error('map-worker.ts must run in a worker thread');
const port = parentPort;
const init = workerData as MapWorkerInit;
const views = loadViews(init.viewsJson, init.viewsSource);
if (views.hash !== init.viewsHash) {
  // The main thread computes with one ViewSet, this worker with the text it was given: they must agree.
  throw new LambdaError('INTERNAL', `map worker views (${views.hash}) differ from the run's views (${init.viewsHash}); pass the text the views were loaded from`);
}
const master = openMasterDataset(init.master, silentLogger());
const aggregate = new Aggregate();
const invalid: Record<string, number> = {};

/** Parsed events of each chunk main has not answered yet. */
const inFlight = new Map<number, LambdaEvent[]>();
let nextChunkId = 0;
let wakeSender: (() => void) | null = null;
const queue: ToWorker[] = [];
let wakeLoop: (() => void) | null = null;

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'keep') {
    // Applied at once, in the message handler: `finish` is sent after the last answer, so by the
    // time the loop sees it every chunk of this worker has been folded in.
    const events = inFlight.get(msg.chunkId);
    inFlight.delete(msg.chunkId);
    try {
      if (events !== undefined) {
        for (let i = 0; i < events.length; i++) if (msg.keep[i] === 1) aggregate.add(events[i] as LambdaEvent, views);
      }
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

async function sendChunk(fileIndex: number, last: boolean, records: number, events: LambdaEvent[], payloadHashes: number[]): Promise<void> {
  while (inFlight.size >= init.maxChunksInFlight) await new Promise<void>((r) => (wakeSender = r));
  const chunkId = nextChunkId++;
  inFlight.set(chunkId, events);
  const ids = events.map((e) => e.id);
  const idHashes = Uint32Array.from(ids, fnv1a32);
  const payload = Uint32Array.from(payloadHashes);
  const msg: ChunkMessage = { type: 'chunk', chunkId, fileIndex, last, records, ids, idHashes, payloadHashes: payload };
  post(msg, [idHashes.buffer, payload.buffer]);
}

async function mapFile(fileIndex: number, key: string): Promise<void> {
  let events: LambdaEvent[] = [];
  let hashes: number[] = [];
  let records = 0;
  for await (const line of master.readLines(key)) {
    records++;
    const r = parseEventLine(line, views);
    if (!r.ok) {
      invalid[r.reason] = (invalid[r.reason] ?? 0) + 1;
      continue;
    }
    events.push(r.event);
    hashes.push(fnv1a32(line));
    if (events.length >= init.chunkEvents) {
      await sendChunk(fileIndex, false, records, events, hashes);
      events = [];
      hashes = [];
      records = 0;
    }
  }
  if (init.fileDelayMs > 0) await sleep(init.fileDelayMs);
  await sendChunk(fileIndex, true, records, events, hashes);
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
