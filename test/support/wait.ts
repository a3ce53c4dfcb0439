/** Wait-helpers instead of sleeps: poll a condition until it holds or a deadline passes. */

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Named in the error when the deadline passes, so a failing test says what never happened. */
  what: string;
}

/** Polls `probe` until it returns a value for which `done` holds; returns that value. */
export async function waitUntil<T>(probe: () => Promise<T> | T, done: (v: T) => boolean, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: T | undefined;
  let lastErr: unknown;
  for (;;) {
    try {
      last = await probe();
      if (done(last)) return last;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const detail = lastErr ? ` (last error: ${String(lastErr)})` : ` (last value: ${JSON.stringify(last)?.slice(0, 500)})`;
      throw new Error(`timed out after ${opts.timeoutMs ?? 30_000} ms waiting for ${opts.what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
