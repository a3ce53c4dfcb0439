/**
 * Exact dedupe by event id over ALL of history, owned by the main thread of a batch run.
 *
 * Workers parse a chunk of lines and send its ids here; `check` answers which ones are first
 * seen (keep) in the order chunks reach the main thread. Every id ever kept stays in memory for
 * the whole run, so memory is bounded by `maxIds` (LAMBDA_BATCH_DEDUPE_MAX_IDS): going past it
 * fails the run with DEDUPE_BUDGET_EXCEEDED instead of silently switching to an approximation.
 *
 * Memory per id (measured on Node 20, 64-bit): about 50 bytes + the id's length for ASCII ids
 * (61 B for 12-character ids, 85 B for 36-character UUIDs; twice the characters for non-Latin-1
 * ids), up to ~25 bytes more right after a hash table doubles. 20 million UUID ids need about
 * 1.7-2.2 GB of V8 heap; raise --max-old-space-size before raising the budget that far.
 *
 * V8 caps one Map at 2^24 entries, so ids are spread over SHARDS maps by a hash of the id.
 * Each id keeps a 32-bit hash of its raw line, so a duplicate whose payload differs from the kept
 * record is counted (`differingPayload`): ids name one real-world event and duplicates are
 * expected to be byte-identical producer retries. Which of two differing records wins depends on
 * scheduling across workers, so a non-zero count is a producer bug worth seeing.
 */
import { LambdaError } from '../../shared/errors.js';

const SHARDS = 64;

export class IdDeduper {
  private readonly shards: Map<string, number>[] = Array.from({ length: SHARDS }, () => new Map<string, number>());
  private kept = 0;
  duplicates = 0;
  differingPayload = 0;

  constructor(private readonly maxIds: number) {}

  get size(): number {
    return this.kept;
  }

  /**
   * keep[i] = 1 when ids[i] was not seen before (in earlier chunks or earlier in this one).
   * `idHashes[i]` is fnv1a32(ids[i]) (computed by the worker), `payloadHashes[i]` that of the line.
   */
  check(ids: readonly string[], idHashes: Uint32Array, payloadHashes: Uint32Array): Uint8Array {
    const keep = new Uint8Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as string;
      const shard = this.shards[(idHashes[i] as number) % SHARDS] as Map<string, number>;
      const seen = shard.get(id);
      const payload = payloadHashes[i] as number;
      if (seen !== undefined) {
        this.duplicates++;
        if (seen !== payload) this.differingPayload++;
        continue;
      }
      if (this.kept >= this.maxIds) throw budgetExceeded(this.maxIds);
      shard.set(id, payload);
      this.kept++;
      keep[i] = 1;
    }
    return keep;
  }
}

function budgetExceeded(maxIds: number): LambdaError {
  return new LambdaError(
    'DEDUPE_BUDGET_EXCEEDED',
    `the master dataset holds more than ${maxIds} distinct event ids, the exact-dedupe budget of a batch run; ` +
      'raise LAMBDA_BATCH_DEDUPE_MAX_IDS (each id costs about 50 bytes + its length of heap) ' +
      'and, if needed, the heap size (node --max-old-space-size)',
    { details: { setting: 'LAMBDA_BATCH_DEDUPE_MAX_IDS', maxIds } },
  );
}
