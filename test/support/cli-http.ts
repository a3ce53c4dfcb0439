/**
 * HTTP probes for tests of a `lambda-arch` child process: status codes that also report a closed
 * port (instead of throwing), and a request held in flight on purpose, to see a shutdown drain it.
 */
import { request } from 'node:http';

/** The status of GET `url`, or 'refused' when nothing accepts connections there. */
export async function probe(url: string): Promise<number | 'refused'> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET') return 'refused';
    throw err;
  }
}

export async function getJson<T = unknown>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface HeldRequest {
  /** sends the body and ends the request */
  finish(): void;
  response: Promise<{ status: number; body: string }>;
}

/**
 * A POST whose headers reach the server (which answered `100 Continue`, so it is handling the
 * request) while its body waits until `finish()`: a request in flight for as long as the test wants.
 */
export async function holdPost(url: string, body: string, contentType: string): Promise<HeldRequest> {
  const req = request(url, {
    method: 'POST',
    headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body), expect: '100-continue' },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (s: string) => (text += s));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.once('error', reject);
    });
  });
  await new Promise<void>((resolve, reject) => {
    req.once('continue', () => resolve());
    response.catch(reject);
    req.flushHeaders();
  });
  return { finish: () => void req.end(body), response };
}
