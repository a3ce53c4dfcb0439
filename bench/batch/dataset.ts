/**
 * A master dataset for the batch bench, written the way the archiver writes it (LocalMasterDataset
 * segments of at most LAMBDA_ARCHIVER_FLUSH_EVENTS lines, round-robin over the partitions, one
 * arrival minute apart) from the seeded clickstream: `events` records of which ~2% are duplicates
 * (producer retries: byte-identical copies of a recent record) and none invalid, so DuckDB can
 * read the same files with a fixed schema and compute the same thing.
 */
import { LocalMasterDataset } from '../../adapters/master/index.js';
import { clickstream } from '../../shared/generator/clickstream.js';

export interface DatasetSpec {
  events: number;
  duplicateFraction: number;
  /** event-time rate of the stream: more events also means more history (more buckets) */
  rate: number;
  startTs: number;
  topic: string;
  partitions: number;
  linesPerFile: number;
}

export interface DatasetInfo {
  files: number;
  bytes: number;
  records: number;
  duplicates: number;
  firstTs: number;
  lastTs: number;
  /** the checkpoints' completeThrough: every record arrived before it */
  arrivalComplete: number;
}

export const BATCH_DATASET_DEFAULTS = { duplicateFraction: 0.02, rate: 200, startTs: Date.UTC(2024, 4, 1), partitions: 2, linesPerFile: 50_000 };

export async function writeDataset(root: string, spec: DatasetSpec): Promise<DatasetInfo> {
  const master = new LocalMasterDataset(root);
  const gen = clickstream({ seed: 42, startTs: spec.startTs, rate: spec.rate, duplicateFraction: spec.duplicateFraction, lateFraction: 0.02 });
  const nextOffset = new Array<number>(spec.partitions).fill(0);
  let records = 0;
  let duplicates = 0;
  let bytes = 0;
  let files = 0;
  let lastTs = spec.startTs;
  let arrivalTs = spec.startTs;
  while (records < spec.events) {
    const lines: string[] = [];
    while (lines.length < spec.linesPerFile && records < spec.events) {
      const r = gen.next().value as { kind: string; value: string };
      lines.push(r.value);
      if (r.kind === 'duplicate') duplicates++;
      records++;
    }
    lastTs = spec.startTs + Math.floor((records * 1000) / spec.rate);
    // A segment arrives when it is flushed: after its last record's time.
    arrivalTs = Math.max(arrivalTs + 1, lastTs);
    const partition = files % spec.partitions;
    const firstOffset = nextOffset[partition] as number;
    nextOffset[partition] = firstOffset + lines.length;
    const f = await master.writeSegment({ topic: spec.topic, partition, firstOffset, arrivalTs, lines });
    bytes += f.sizeBytes;
    files++;
  }
  const arrivalComplete = arrivalTs + 1000;
  for (let partition = 0; partition < spec.partitions; partition++) {
    await master.writeCheckpoint({
      topic: spec.topic,
      partition,
      lastOffset: (nextOffset[partition] as number) - 1,
      completeThrough: arrivalComplete,
      updatedAt: arrivalComplete,
    });
  }
  return { files, bytes, records, duplicates, firstTs: spec.startTs, lastTs, arrivalComplete };
}
