/**
 * History backfill (docs/design-decisions.md §1: "backfills may be written straight into the master dataset, batch
 * only"): a JSONL file becomes master dataset segments, without passing through Kafka, so the
 * speed layer never sees it and the next batch run does.
 *
 * Idempotent by construction: a file is identified by the hash of its content and written under the
 * pseudo topic `import.<hash>`, partition 0, with 1-based line numbers in the place of Kafka
 * offsets; each segment covers a fixed range of source lines. Importing the same file again (also
 * after a crash half-way) writes the same names with the same content into the same arrival hour.
 * Bad lines are not imported; each is reported with its line number and reason.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { arrivalHour, arrivalHourStart, IMPORT_TOPIC_PREFIX, importTopic } from '../../shared/master/layout.js';
import { LambdaError } from '../../shared/errors.js';
import { parseEventLine, type InvalidReason } from '../../shared/events.js';
import type { MasterDataset } from '../../shared/ports.js';
import type { ViewSet } from '../../shared/views/definition.js';

export interface ImportProgress {
  bytesRead: number;
  totalBytes: number;
  lines: number;
}

export interface InvalidLine {
  /** 1-based line number in the source file */
  line: number;
  reason: InvalidReason;
  message: string;
}

export interface ImportReport {
  file: string;
  /** the pseudo topic the segments were written under: `import.<first 16 hex of sha256>` */
  topic: string;
  linesRead: number;
  imported: number;
  /** the first MAX_LISTED_INVALID bad lines */
  invalid: InvalidLine[];
  /** all bad lines, listed or not */
  invalidCount: number;
  segments: number;
  /** start of the arrival hour the segments are filed under (reused by re-imports of the same file) */
  arrivalTs: number;
}

export interface ImportOptions {
  /** source lines per segment (default 50 000) */
  segmentLines?: number;
  onProgress?: (p: ImportProgress) => void;
  now?: () => number;
}

export const MAX_LISTED_INVALID = 1000;
const PROGRESS_EVERY_LINES = 5000;

async function contentHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex').slice(0, 16);
}

async function fileSize(path: string): Promise<number> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new LambdaError('VALIDATION', `${path} is not a regular file`);
    return s.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new LambdaError('NOT_FOUND', `${path} does not exist`, { cause: err });
    throw err;
  }
}

/**
 * The arrival time of an import is the start of the hour it first arrived in: an earlier (possibly
 * partial) import of the same content fixed that hour, so a re-import reuses it and lands in the
 * same folder under the same names.
 */
async function arrivalFor(master: MasterDataset, topic: string, now: number): Promise<number> {
  const earlier = (await master.listFiles()).find((f) => f.topic === topic);
  return arrivalHourStart(earlier ? earlier.arrivalHour : arrivalHour(now));
}

export async function importJsonl(filePath: string, master: MasterDataset, views: ViewSet, opts: ImportOptions = {}): Promise<ImportReport> {
  const now = opts.now ?? Date.now;
  const segmentLines = opts.segmentLines ?? 50_000;
  if (!Number.isSafeInteger(segmentLines) || segmentLines < 1)
    throw new LambdaError('VALIDATION', `segmentLines must be a positive integer, got ${segmentLines}`);
  const totalBytes = await fileSize(filePath);
  const topic = importTopic(await contentHash(filePath));
  const arrivalTs = await arrivalFor(master, topic, now());
  const report: ImportReport = { file: filePath, topic, linesRead: 0, imported: 0, invalid: [], invalidCount: 0, segments: 0, arrivalTs };

  let pending: string[] = [];
  let segmentStart = 1;
  const flush = async () => {
    if (pending.length > 0) {
      await master.writeSegment({ topic, partition: 0, firstOffset: segmentStart, arrivalTs, lines: pending });
      report.segments++;
      report.imported += pending.length;
    }
    pending = [];
    segmentStart = report.linesRead + 1;
  };

  const source = createReadStream(filePath);
  // The name came from a first pass over the file; a file changed in between must not be filed
  // under the old content's name.
  const recheck = createHash('sha256');
  source.on('data', (chunk) => recheck.update(chunk as Buffer));
  const progress = () => opts.onProgress?.({ bytesRead: source.bytesRead, totalBytes, lines: report.linesRead });
  const lines = createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const raw of lines) {
      const n = ++report.linesRead;
      const text = n === 1 ? raw.replace(/^\uFEFF/, '') : raw; // a BOM is not part of the JSON
      const parsed = parseEventLine(text, views);
      if (parsed.ok) pending.push(text);
      else {
        report.invalidCount++;
        if (report.invalid.length < MAX_LISTED_INVALID) report.invalid.push({ line: n, reason: parsed.reason, message: parsed.message });
      }
      if (n % segmentLines === 0) await flush();
      if (n % PROGRESS_EVERY_LINES === 0) progress();
    }
    await flush();
  } finally {
    lines.close();
    source.destroy();
  }
  if (`${IMPORT_TOPIC_PREFIX}${recheck.digest('hex').slice(0, 16)}` !== topic) {
    throw new LambdaError('CONFLICT', `${filePath} changed while it was being imported; import it again once it is complete`);
  }
  progress();
  // Written last: its presence says this import completed. It never counts in arrivalComplete,
  // which only looks at the partitions of the Kafka topic.
  await master.writeCheckpoint({ topic, partition: 0, lastOffset: report.linesRead, completeThrough: arrivalTs, updatedAt: now() });
  return report;
}
