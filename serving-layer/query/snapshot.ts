/**
 * One answer reads one batch run (docs/design-decisions.md, Serving layer): W, the boundary and
 * every batch row come from the run published when the answer began, even if the batch layer
 * publishes another (or prunes this one) while the answer is being built.
 */
import type { BatchSnapshot, BatchViewStore } from '../../shared/ports.js';

/**
 * Takes the store's own snapshot (which holds the newest `hold` run files open), or, for a store
 * without one, pins the run ids: rows are then read by id, so a newer run is never mixed in,
 * though a run pruned meanwhile answers NOT_FOUND instead of its rows.
 */
export function takeSnapshot(store: BatchViewStore, hold = 1): BatchSnapshot {
  if (store.snapshot) return store.snapshot({ hold });
  // Two reads, so a publish may fall between them: the kept list decides (the published run is
  // the newest kept one), so `run` and `runs` describe the same moment.
  const runs = store.runs();
  const latest = store.latestRun();
  const run = runs.find((r) => r.runId === latest?.runId) ?? runs[0] ?? latest;
  return {
    run,
    runs,
    series: (q, runId) => store.series(q, runId ?? run?.runId),
    sketches: (q, measure, runId) => store.sketches?.(q, measure, runId ?? run?.runId) ?? null,
    release: () => undefined,
  };
}

/** Runs `answer` with a snapshot and releases it however the answer ends. */
export async function withSnapshot<T>(store: BatchViewStore, hold: number, answer: (snap: BatchSnapshot) => Promise<T>): Promise<T> {
  const snap = takeSnapshot(store, hold);
  try {
    return await answer(snap);
  } finally {
    snap.release();
  }
}
