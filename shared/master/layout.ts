/**
 * The master dataset's naming scheme (docs/design-decisions.md §4), as pure functions shared by every storage adapter
 * (local files now, S3 later), so that both write and read exactly the same keys:
 *
 *   events/arrival=YYYY-MM-DDTHH/<topic>-<partition>-<firstOffset>.jsonl.gz
 *   checkpoints/<topic>-<partition>.json
 *
 * `firstOffset` is zero-padded to 20 digits (a Kafka offset is an int64: at most 19 digits), so the
 * lexical order of keys is the numeric order of offsets within one topic-partition and a plain
 * sorted listing (local readdir or S3 ListObjectsV2) is already in log order.
 */
import { LambdaError } from '../errors.js';

export const EVENTS_PREFIX = 'events/';
export const CHECKPOINTS_PREFIX = 'checkpoints/';
export const SEGMENT_SUFFIX = '.jsonl.gz';
export const OFFSET_DIGITS = 20;

/** Kafka's own topic-name rule; it also keeps keys free of `/` and other path tricks. */
const TOPIC_RE = /^[a-zA-Z0-9._-]{1,249}$/;
const HOUR_RE = /^\d{4}-\d{2}-\d{2}T\d{2}$/;
// The topic may itself contain `-`: partition and offset are always the last two fields.
const SEGMENT_KEY_RE = /^events\/arrival=(\d{4}-\d{2}-\d{2}T\d{2})\/([a-zA-Z0-9._-]{1,249})-(\d{1,10})-(\d{20})\.jsonl\.gz$/;
const CHECKPOINT_KEY_RE = /^checkpoints\/([a-zA-Z0-9._-]{1,249})-(\d{1,10})\.json$/;

/** Arrival times outside these bounds cannot be written as a four-digit-year hour folder. */
const MIN_ARRIVAL_TS = 0;
const MAX_ARRIVAL_TS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export interface SegmentCoordinates {
  /** `YYYY-MM-DDTHH`, UTC */
  arrivalHour: string;
  topic: string;
  partition: number;
  firstOffset: number;
}

export interface PartitionRef {
  topic: string;
  partition: number;
}

function invalid(message: string): LambdaError {
  return new LambdaError('STORAGE', message);
}

export function assertTopic(topic: string): void {
  if (!TOPIC_RE.test(topic)) throw invalid(`topic ${JSON.stringify(topic)} is not a valid Kafka topic name`);
}

function assertPartition(partition: number): void {
  if (!Number.isSafeInteger(partition) || partition < 0 || partition > 2_147_483_647) {
    throw invalid(`partition ${partition} is not a non-negative 32-bit integer`);
  }
}

function assertOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw invalid(`offset ${offset} is not a non-negative safe integer`);
}

/** The UTC hour of an epoch-ms instant as `YYYY-MM-DDTHH` (the `arrival=` folder name). */
export function arrivalHour(ts: number): string {
  if (!Number.isFinite(ts) || ts < MIN_ARRIVAL_TS || ts > MAX_ARRIVAL_TS) {
    throw invalid(`arrival time ${ts} is outside 1970..9999 and cannot name an arrival folder`);
  }
  return new Date(ts).toISOString().slice(0, 13);
}

/** Start of an arrival hour folder, as epoch ms. */
export function arrivalHourStart(hour: string): number {
  if (!HOUR_RE.test(hour)) throw invalid(`arrival hour ${JSON.stringify(hour)} is not YYYY-MM-DDTHH`);
  const ts = Date.parse(`${hour}:00:00.000Z`);
  if (Number.isNaN(ts)) throw invalid(`arrival hour ${JSON.stringify(hour)} is not a real hour`);
  return ts;
}

export function padOffset(offset: number): string {
  assertOffset(offset);
  return String(offset).padStart(OFFSET_DIGITS, '0');
}

/** The object key of a segment: a pure function of its Kafka coordinates and arrival hour. */
export function segmentKey(c: SegmentCoordinates): string {
  assertTopic(c.topic);
  assertPartition(c.partition);
  arrivalHourStart(c.arrivalHour);
  return `${EVENTS_PREFIX}arrival=${c.arrivalHour}/${c.topic}-${c.partition}-${padOffset(c.firstOffset)}${SEGMENT_SUFFIX}`;
}

/** The coordinates a segment key encodes, or null when the key is not a segment of this layout. */
export function parseSegmentKey(key: string): SegmentCoordinates | null {
  const m = SEGMENT_KEY_RE.exec(key);
  if (!m) return null;
  const [, hour, topic, partition, offset] = m as unknown as [string, string, string, string, string];
  const firstOffset = Number(offset);
  if (!Number.isSafeInteger(firstOffset) || Number.isNaN(Date.parse(`${hour}:00:00.000Z`))) return null;
  return { arrivalHour: hour, topic, partition: Number(partition), firstOffset };
}

export function checkpointKey(ref: PartitionRef): string {
  assertTopic(ref.topic);
  assertPartition(ref.partition);
  return `${CHECKPOINTS_PREFIX}${ref.topic}-${ref.partition}.json`;
}

export function parseCheckpointKey(key: string): PartitionRef | null {
  const m = CHECKPOINT_KEY_RE.exec(key);
  if (!m) return null;
  return { topic: m[1] as string, partition: Number(m[2]) };
}

/**
 * Backfills written straight into the master dataset (batch-layer/import) use a pseudo topic per
 * source file, `import.<content hash>`: no Kafka topic feeds it, so its checkpoint never takes part
 * in `arrivalComplete` (which looks only at the partitions of the real topic).
 */
export const IMPORT_TOPIC_PREFIX = 'import.';

export function importTopic(contentHashHex: string): string {
  if (!/^[0-9a-f]{16}$/.test(contentHashHex)) throw invalid(`import hash ${JSON.stringify(contentHashHex)} must be 16 lower-case hex digits`);
  return `${IMPORT_TOPIC_PREFIX}${contentHashHex}`;
}

export function isImportTopic(topic: string): boolean {
  return /^import\.[0-9a-f]{16}$/.test(topic);
}
