/**
 * The master dataset in an S3 bucket (AWS S3 or any S3-compatible store), with exactly the keys
 * and file formats of the local adapter (shared/master/layout.ts, checkpoint-codec.ts) under the URL's prefix.
 *
 * - A segment is one PutObject (a multipart upload above MULTIPART_THRESHOLD_BYTES): S3 shows an
 *   object whole or not at all, the atomicity the local adapter gets from temp file + rename. It is
 *   a conditional write (If-None-Match), so it never replaces another segment; the gzip bytes are
 *   deterministic, so writing the same Kafka coordinates again after a crash finds an identical
 *   object under the same key and succeeds.
 * - Listings page through ListObjectsV2 with continuation tokens (LAMBDA_S3_LIST_PAGE_SIZE keys a
 *   page); reads stream (s3-object-lines.ts).
 * - Checkpoints are small JSON objects; like the local adapter a damaged one is an error.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { LambdaError } from '../../shared/errors.js';
import type { Checkpoint, MasterDataset, MasterFile, MasterSegment } from '../../shared/ports.js';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint-codec.js';
import { segmentConflictError } from './segment-conflict.js';
import { arrivalHour, checkpointKey, CHECKPOINTS_PREFIX, EVENTS_PREFIX, parseCheckpointKey, parseSegmentKey, segmentKey } from '../../shared/master/layout.js';
import { createS3Client, type S3Settings } from './s3-client.js';
import { s3Error, type S3ErrorContext } from './s3-errors.js';
import type { S3Location } from './s3-location.js';
import { objectLines } from './s3-object-lines.js';

const gzipAsync = promisify(gzip);

/** A conditional write's condition did not hold (412; 409 is S3's "a concurrent conditional write"). */
function isPreconditionFailed(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'PreconditionFailed' || e.$metadata?.httpStatusCode === 412 || e.name === 'ConditionalRequestConflict';
}

/** Segments above this go up as a multipart upload, in parts of this size (S3's minimum is 5 MiB). */
export const MULTIPART_THRESHOLD_BYTES = 8 * 1024 * 1024;
/** Parts of one multipart upload in flight at once. */
const MULTIPART_QUEUE = 2;
/** Checkpoint objects fetched at once by readCheckpoints. */
const CHECKPOINT_READS_IN_FLIGHT = 8;

/** See local-master-dataset.ts: one record per line, so a line break inside a value is refused. */
function encodeLines(lines: readonly string[]): string {
  for (const line of lines) {
    if (/[\r\n]/.test(line)) throw new LambdaError('STORAGE', 'a master dataset line must not contain a line break');
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function byKey<T extends { key: string }>(a: T, b: T): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export class S3MasterDataset implements MasterDataset {
  private readonly client: S3Client;
  private readonly ctx: S3ErrorContext;

  constructor(
    private readonly location: S3Location,
    private readonly settings: S3Settings,
  ) {
    this.client = createS3Client(settings);
    this.ctx = { location, settings };
  }

  describe(): string {
    return this.location.url;
  }

  objectUrl(key: string): string {
    return `s3://${this.location.bucket}/${this.location.prefix}${key}`;
  }

  /**
   * One cheap request that needs everything the dataset needs: the endpoint answering, the
   * credentials accepted, the bucket present and listable. The whole check is bounded by
   * LAMBDA_S3_REQUEST_TIMEOUT_MS, retries included, so a role fails fast at start.
   */
  async verify(): Promise<void> {
    try {
      await this.client.send(new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: this.location.prefix, MaxKeys: 1 }), {
        abortSignal: AbortSignal.timeout(this.settings.requestTimeoutMs),
      });
    } catch (err) {
      throw s3Error('cannot be used', err, this.ctx);
    }
  }

  /**
   * Fenced (see the port) with S3 conditional writes: `If-None-Match: *` creates the key only if it
   * is free, `If-Match: <ETag>` replaces exactly the object `replacing` names. A 412 on create
   * is then checked: the same bytes (e.g. our own earlier attempt that the SDK retried) are an
   * idempotent replay. The multipart upload passes the same condition to CompleteMultipartUpload.
   */
  async writeSegment(seg: MasterSegment, opts: { replacing?: string } = {}): Promise<MasterFile> {
    const hour = arrivalHour(seg.arrivalTs);
    const key = segmentKey({ arrivalHour: hour, topic: seg.topic, partition: seg.partition, firstOffset: seg.firstOffset });
    const body = await gzipAsync(encodeLines(seg.lines));
    const condition = opts.replacing !== undefined ? { IfMatch: opts.replacing } : { IfNoneMatch: '*' };
    const params = { Bucket: this.location.bucket, Key: this.location.prefix + key, Body: body, ContentType: 'application/gzip', ...condition };
    try {
      if (body.length > MULTIPART_THRESHOLD_BYTES) {
        // Parts are retried by the SDK one by one; a failed upload is aborted (no parts left behind).
        await new Upload({ client: this.client, params, partSize: MULTIPART_THRESHOLD_BYTES, queueSize: MULTIPART_QUEUE, leavePartsOnError: false }).done();
      } else {
        await this.client.send(new PutObjectCommand(params));
      }
    } catch (err) {
      if (!isPreconditionFailed(err)) throw s3Error(`cannot write ${key}`, err, this.ctx);
      const existing = await this.readObject(key);
      if (existing === null) throw s3Error(`cannot write ${key}`, err, this.ctx); // gone again: retried from the checkpoint
      if (opts.replacing === undefined && existing.body.equals(body))
        return { key, arrivalHour: hour, topic: seg.topic, partition: seg.partition, firstOffset: seg.firstOffset, sizeBytes: body.length };
      throw segmentConflictError(key, existing.etag, this.location.url);
    }
    return { key, arrivalHour: hour, topic: seg.topic, partition: seg.partition, firstOffset: seg.firstOffset, sizeBytes: body.length };
  }

  async listFiles(): Promise<MasterFile[]> {
    const files: MasterFile[] = [];
    for await (const { key, size } of this.listKeys(EVENTS_PREFIX)) {
      const c = parseSegmentKey(key);
      if (c) files.push({ key, ...c, sizeBytes: size }); // a stray object is not ours: skip it
    }
    return files.sort(byKey);
  }

  async *readLines(key: string): AsyncIterable<string> {
    if (!parseSegmentKey(key)) throw new LambdaError('NOT_FOUND', `${key} is not a master dataset segment key`);
    try {
      yield* objectLines({ client: this.client, bucket: this.location.bucket, key: this.location.prefix + key, maxAttempts: this.settings.maxAttempts });
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') throw new LambdaError('NOT_FOUND', `${key} does not exist in ${this.location.url}`, { cause: err });
      if (err instanceof Error && (err as NodeJS.ErrnoException).code?.startsWith('Z_')) {
        throw new LambdaError('STORAGE', `master dataset ${this.location.url}: ${key} is not valid gzip: ${err.message}`, { cause: err });
      }
      throw s3Error(`cannot read ${key}`, err, this.ctx);
    }
  }

  async writeCheckpoint(cp: Checkpoint): Promise<void> {
    const key = checkpointKey(cp);
    const body = encodeCheckpoint(cp);
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.location.bucket, Key: this.location.prefix + key, Body: body, ContentType: 'application/json' }),
      );
    } catch (err) {
      throw s3Error(`cannot write ${key}`, err, this.ctx);
    }
  }

  async readCheckpoints(): Promise<Checkpoint[]> {
    const keys: string[] = [];
    for await (const { key } of this.listKeys(CHECKPOINTS_PREFIX)) if (parseCheckpointKey(key)) keys.push(key);
    const out: Checkpoint[] = [];
    for (let i = 0; i < keys.length; i += CHECKPOINT_READS_IN_FLIGHT) {
      const batch = await Promise.all(keys.slice(i, i + CHECKPOINT_READS_IN_FLIGHT).map((k) => this.readCheckpoint(k)));
      for (const cp of batch) if (cp !== null) out.push(cp);
    }
    return out.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  /** null when the object went away between the listing and the read (never, in practice). */
  private async readCheckpoint(key: string): Promise<Checkpoint | null> {
    let text: string;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.location.prefix + key }));
      text = (await res.Body?.transformToString('utf8')) ?? '';
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return null;
      throw s3Error(`cannot read ${key}`, err, this.ctx);
    }
    const where = `${this.location.url}/${key}`;
    const cp = decodeCheckpoint(text, where);
    if (checkpointKey(cp) !== key) throw new LambdaError('STORAGE', `checkpoint ${where} holds ${cp.topic}-${cp.partition}`);
    return cp;
  }

  /** A whole (small) object and its ETag, or null when there is none. */
  private async readObject(key: string): Promise<{ body: Buffer; etag: string } | null> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.location.prefix + key }));
      const bytes = (await res.Body?.transformToByteArray()) ?? new Uint8Array();
      return { body: Buffer.from(bytes), etag: res.ETag ?? '' };
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return null;
      throw s3Error(`cannot read ${key}`, err, this.ctx);
    }
  }

  /** Every object under `<prefix><sub>`, keys relative to the dataset root, page by page. */
  private async *listKeys(sub: string): AsyncGenerator<{ key: string; size: number }> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.location.bucket,
            Prefix: this.location.prefix + sub,
            MaxKeys: this.settings.listPageSize,
            ContinuationToken: token,
          }),
        );
      } catch (err) {
        throw s3Error(`cannot list ${sub}`, err, this.ctx);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined || !o.Key.startsWith(this.location.prefix)) continue;
        yield { key: o.Key.slice(this.location.prefix.length), size: o.Size ?? 0 };
      }
      // A truncated page without a token would loop forever on a broken server: stop with an error.
      if (page.IsTruncated === true && !page.NextContinuationToken) {
        throw new LambdaError('STORAGE', `master dataset ${this.location.url}: the listing of ${sub} is truncated but has no continuation token`);
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /** Closes the client's sockets (keep-alive connections would otherwise hold the process open). */
  close(): void {
    this.client.destroy();
  }
}
