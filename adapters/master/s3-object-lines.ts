/**
 * Streams one gzip JSONL object out of S3 as lines: GetObject's body goes through gunzip and a
 * line splitter chunk by chunk, so memory stays flat however large the object is.
 *
 * A connection that breaks mid-body (the SDK's retries only cover getting the response) resumes
 * where it stopped with a ranged GetObject pinned to the first response's ETag, so a long batch
 * read survives a network blip without starting the object over. gzip's own CRC and length
 * trailer then still checks the whole reassembled stream.
 */
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { backoffDelay } from '../../platform/retry.js';

/** The SDK's own backoff bounds for retries (base 100 ms, at most 20 s). */
const RESUME_BASE_MS = 100;
const RESUME_MAX_MS = 20_000;
const BROKEN_STREAM_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

function isBrokenStream(err: unknown): boolean {
  const e = err as { code?: string; name?: string } | null;
  return e !== null && (BROKEN_STREAM_CODES.has(e.code ?? '') || e.name === 'TimeoutError');
}

export interface ObjectRef {
  client: S3Client;
  bucket: string;
  key: string;
  /** attempts per broken body, as LAMBDA_S3_MAX_ATTEMPTS */
  maxAttempts: number;
}

/** The object's bytes, resuming after a broken connection with `Range: bytes=<received>-`. */
async function* objectBytes(ref: ObjectRef): AsyncGenerator<Uint8Array> {
  let received = 0;
  let etag: string | undefined;
  for (let breaks = 0; ;) {
    const res = await ref.client.send(
      new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, ...(received > 0 ? { Range: `bytes=${received}-`, IfMatch: etag } : {}) }),
    );
    etag ??= res.ETag;
    const body = res.Body as Readable | undefined;
    if (body === undefined) return; // an empty object
    try {
      for await (const chunk of body) {
        received += (chunk as Uint8Array).length;
        yield chunk as Uint8Array;
      }
      return;
    } catch (err) {
      body.destroy();
      if (!isBrokenStream(err) || ++breaks >= ref.maxAttempts) throw err;
      await sleep(backoffDelay(breaks - 1, RESUME_BASE_MS, RESUME_MAX_MS));
    }
  }
}

/** The gunzipped lines of the object; errors (S3, network, gzip) end the iteration with a throw. */
export async function* objectLines(ref: ObjectRef): AsyncGenerator<string> {
  const source = Readable.from(objectBytes(ref), { objectMode: false });
  const gunzip = createGunzip();
  source.on('error', (err) => gunzip.destroy(err));
  const lines = createInterface({ input: source.pipe(gunzip), crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) yield line;
  } finally {
    lines.close();
    source.destroy();
    gunzip.destroy();
  }
}
