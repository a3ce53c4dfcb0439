/** Polls until `check` says yes, or fails after `timeoutMs` naming what it waited for. */
export async function untilTrue(check: () => Promise<boolean>, opts: { what: string; timeoutMs: number; everyMs?: number }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs / 1000} s waiting for ${opts.what}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 250));
  }
}
