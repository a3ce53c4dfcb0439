/**
 * Whether a gzip master file's text starts with a UTF-8 byte order mark. The MasterDataset port
 * keeps the mark (the reference engine then finds the first line not_json), but both native
 * readers drop it: DuckDB's read_csv and Hadoop's line reader under Spark. So the duckdb and spark
 * engines check each local file first and stream such files through the port instead.
 */
import { open } from 'node:fs/promises';
import { constants, gunzipSync } from 'node:zlib';

/** Inflates the first 4 KiB only; a file that cannot even be inflated answers true: let the port's reader say what is wrong with it. */
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
