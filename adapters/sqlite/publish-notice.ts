/**
 * Publish notices within one process (issue 16): a reader of the batch catalog checks the
 * catalog's generation row at most once per bound (SqliteBatchViewStore), but a publish made by
 * this very process (`lambda-arch start` runs batch and serving together, as do many tests) must
 * be seen by the next answer, not up to a bound later. Every catalog write that bumps the
 * generation counts here, keyed by the catalog's absolute path; a reader that sees the count move
 * re-reads the catalog at once. Publishes by other processes are seen within the bound
 * (docs/design-decisions.md, Serving layer).
 */
const notices = new Map<string, number>();

/** Called after a committed catalog write that changed the generation. */
export function notePublish(catalogPath: string): void {
  notices.set(catalogPath, (notices.get(catalogPath) ?? 0) + 1);
}

/** How many generation changes this process has made to the catalog at `catalogPath`. */
export function publishesSeen(catalogPath: string): number {
  return notices.get(catalogPath) ?? 0;
}
