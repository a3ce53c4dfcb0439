/**
 * Hadoop's line reader, which Spark's text source uses, drops a UTF-8 byte order mark at the start
 * of a file (LineRecordReader skips it); the MasterDataset port keeps it, and the reference engine
 * then finds the first line not_json. So such files are found first and staged through the port
 * like S3 objects (spark-engine.ts). Found by the differential test.
 */
import { open } from 'node:fs/promises';
import { constants, gunzipSync } from 'node:zlib';

/** Whether the gunzipped file starts with a UTF-8 byte order mark (or cannot even be inflated: let the port say why). */
export async function startsWithBom(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    // A prefix of a gzip stream: decode what it holds, without failing on the missing end.
    const text = gunzipSync(head.subarray(0, bytesRead), { finishFlush: constants.Z_SYNC_FLUSH });
    return text.length >= 3 && text[0] === 0xef && text[1] === 0xbb && text[2] === 0xbf;
  } catch {
    return true;
  } finally {
    await handle.close();
  }
}
