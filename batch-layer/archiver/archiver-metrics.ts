/**
 * The archiver's fencing and gap counters (issue 12). They belong with the others in
 * platform/metrics.ts; they are registered here, on the same per-process registry and under the
 * same naming scheme, because that module is outside the archiver's part of the tree. One set per
 * registry, however many archivers a process (or a test) builds.
 */
import { Counter, type Registry } from 'prom-client';

export interface ArchiverExtraMetrics {
  /** offsets Kafka deleted before the archiver read them (archive gaps) */
  gapOffsets: Counter;
  /** segment writes refused because another segment already has the name */
  segmentConflicts: Counter;
}

const perRegistry = new WeakMap<Registry, ArchiverExtraMetrics>();

export function archiverExtraMetrics(registry: Registry): ArchiverExtraMetrics {
  let m = perRegistry.get(registry);
  if (!m) {
    m = {
      gapOffsets: new Counter({
        name: 'lambda_archiver_gap_offsets_total',
        help: 'Offsets Kafka deleted (retention) before the archiver read them; recorded as archive gaps in the checkpoints.',
        registers: [registry],
      }),
      segmentConflicts: new Counter({
        name: 'lambda_archiver_segment_conflicts_total',
        help: 'Segment writes refused because a different segment already had the name (the partition was taken over).',
        registers: [registry],
      }),
    };
    perRegistry.set(registry, m);
  }
  return m;
}
