/**
 * Exact dedupe by event id over ALL of history, owned by the main thread of a batch run.
 *
 * Workers parse a chunk of lines and send its ids here; `check` answers which ones are first
 * seen (keep) in the order chunks reach the main thread. Every id ever kept stays in memory for
 * the whole run, so memory is bounded by `maxIds` (LAMBDA_BATCH_DEDUPE_MAX_IDS): going past it
 * fails the run with DEDUPE_BUDGET_EXCEEDED instead of silently switching to an approximation.
 *
 * The ids live in an IdTable (id-table.ts): typed arrays, not JS strings in Maps, so keeping
 * millions of them costs the garbage collector nothing. Memory per id (measured): about 24 bytes
 * plus its length for ASCII/Latin-1 ids (36 B for 12-character ids, 60 B for 36-character UUIDs;
 * two bytes per character for other ids), up to 1.5 times that while an array doubles. 20 million
 * UUID ids need about 1.2-1.8 GB outside the V8 heap.
 *
 * Each id keeps a 32-bit hash of its raw line, so a duplicate whose payload differs from the kept
 * record is counted (`differingPayload`): ids name one real-world event and duplicates are
 * expected to be byte-identical producer retries. Which of two differing records wins depends on
 * scheduling across workers, so a non-zero count is a producer bug worth seeing.
 */
import { LambdaError } from '../../shared/errors.js';
import { IdTable } from './id-table.js';

export class IdDeduper {
  private readonly table = new IdTable();
  duplicates = 0;
  differingPayload = 0;

  constructor(private readonly maxIds: number) {}

  get size(): number {
    return this.table.size;
  }

  /** Bytes the kept ids occupy (typed arrays, outside the V8 heap). */
  get bytes(): number {
    return this.table.bytes;
  }

  /**
   * keep[i] = 1 when ids[i] was not seen before (in earlier chunks or earlier in this one).
   * `idHashes[i]` is fnv1a32(ids[i]) (computed by the worker), `payloadHashes[i]` that of the line.
   */
  check(ids: readonly string[], idHashes: Uint32Array, payloadHashes: Uint32Array): Uint8Array {
    const keep = new Uint8Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as string;
      const payload = payloadHashes[i] as number;
      const probe = this.table.probe(id, idHashes[i] as number);
      if (probe.found) {
        this.duplicates++;
        if (this.table.payloadOf(probe.entry) !== payload) this.differingPayload++;
        continue;
      }
      if (this.table.size >= this.maxIds || !this.table.insert(probe.slot, id, idHashes[i] as number, payload)) throw budgetExceeded(this.maxIds);
      keep[i] = 1;
    }
    return keep;
  }
}

function budgetExceeded(maxIds: number): LambdaError {
  return new LambdaError(
    'DEDUPE_BUDGET_EXCEEDED',
    `the master dataset holds more than ${maxIds} distinct event ids, the exact-dedupe budget of a batch run; ` +
      'raise LAMBDA_BATCH_DEDUPE_MAX_IDS (each id costs about 24 bytes + its length of memory) ' +
      'and make sure the machine has that memory to spare',
    { details: { setting: 'LAMBDA_BATCH_DEDUPE_MAX_IDS', maxIds } },
  );
}
