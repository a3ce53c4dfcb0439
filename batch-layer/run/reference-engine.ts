/**
 * The reference batch engine: the TypeScript map/merge (docs/design-decisions.md, "Batch layer").
 * Worker threads parse and validate the master files with shared/events.ts, the main thread owns
 * the exact id dedupe (dedupe.ts), the workers' partial aggregates merge as monoids. It is the
 * oracle the `duckdb` engine is tested against, and fine for small data.
 */
import { availableParallelism } from 'node:os';
import type { Config } from '../../platform/config.js';
import { Aggregate } from '../../shared/aggregate/aggregate.js';
import { groupSketches } from '../../shared/aggregate/sketches.js';
import { toStoredGroup } from '../../shared/aggregate/stored-group.js';
import type { BatchEngine, BatchEngineInput, BatchEngineResult } from '../../shared/batch-engine.js';
import type { WorkerMasterRef } from '../../shared/batch/ports.js';
import { IdDeduper } from './dedupe.js';
import { mapFiles } from './map-pool.js';
import { viewsDocumentText } from './views-text.js';

/** Valid events per dedupe round trip, and round trips a worker may have outstanding. */
const CHUNK_EVENTS = 4096;
const MAX_CHUNKS_IN_FLIGHT = 8;

export class ReferenceBatchEngine implements BatchEngine {
  readonly name = 'reference';

  /** `master`: how the map workers open the master dataset (cli/batch-engines.ts builds it). */
  constructor(
    private readonly config: Pick<Config, 'batch'>,
    private readonly master: WorkerMasterRef,
  ) {}

  async compute(input: BatchEngineInput): Promise<BatchEngineResult> {
    const { config } = this;
    const deduper = new IdDeduper(config.batch.dedupeMaxIds);
    const mapped = await mapFiles({
      files: input.files,
      workers: config.batch.workers === 0 ? availableParallelism() : config.batch.workers,
      init: {
        viewsJson: viewsDocumentText(input.views),
        viewsSource: input.views.source,
        viewsHash: input.views.hash,
        master: this.master,
        chunkEvents: CHUNK_EVENTS,
        maxChunksInFlight: MAX_CHUNKS_IN_FLIGHT,
        fileDelayMs: config.batch.fileDelayMs,
      },
      deduper,
      signal: input.signal,
      onProgress: input.onProgress,
    });
    input.onMerge();
    // Partials merge in any order (monoids), each straight from its plain form.
    const aggregate = new Aggregate();
    for (const p of mapped.partials) aggregate.mergePlain(p);
    input.signal.throwIfAborted();
    return {
      groups: Array.from(aggregate.groups(), toStoredGroup),
      // Hashed from the exact member sets while the run file is written (nothing kept twice).
      ...(input.sketches === true ? { sketches: groupSketches(aggregate.groups()) } : {}),
      counts: {
        eventsRead: mapped.recordsRead,
        invalid: mapped.invalid,
        duplicates: deduper.duplicates,
        duplicatesDifferingPayload: deduper.differingPayload,
        eventsKept: deduper.size,
      },
      workers: mapped.workers,
    };
  }
}
