/**
 * Reads of the speed layer shared between concurrent identical requests (single-flight), and
 * reused while younger than `maxStaleMs` (docs/design-decisions.md, "Serving cache"). Staleness
 * is measured from when the read *started*, so an answer is never older than the bound plus the
 * read itself; the answer states the moment (`speed.readAt`). maxStaleMs 0 still shares a read in
 * flight but never reuses a finished one.
 *
 * Refresh ahead: a read past half the bound is still served, and a new one starts behind it, so
 * under steady traffic no request waits for Redis (it would wait with every request that arrived
 * meanwhile: a latency spike per refresh); a request waits only when the last read is past the
 * bound, i.e. after a quiet spell.
 */
import { sameValue } from './same-value.js';

export interface FreshRead<T> {
  value: T;
  /** when the read started (epoch ms, the service's clock) */
  readAt: number;
  /** increments with every completed read of this process: identifies the read in cache keys */
  generation: number;
  /**
   * The content's version: kept from the previous read of the same key when this one brought back
   * an equal value (same-value.ts), new otherwise. An answer whose bytes depend only on the
   * content (not on readAt) can be reused while its reads' versions are unchanged: an idle speed
   * layer then costs a compare per refresh, not a rebuild (issue 16).
   */
  version: number;
}

interface Slot<T> {
  read?: FreshRead<T>;
  pending?: Promise<FreshRead<T>>;
}

let generations = 0;
let versions = 0;

export class FreshReads<T> {
  private readonly slots = new Map<string, Slot<T>>();

  constructor(
    private readonly maxStaleMs: number,
    private readonly now: () => number,
    /** distinct keys remembered (oldest dropped first); each holds one read */
    private readonly maxKeys = 512,
    private readonly onLookup: (outcome: 'fresh' | 'joined' | 'read') => void = () => undefined,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<FreshRead<T>> {
    const t = this.now();
    let slot = this.slots.get(key);
    if (slot?.read !== undefined && t - slot.read.readAt <= this.maxStaleMs) {
      this.onLookup('fresh');
      if (slot.pending === undefined && 2 * (t - slot.read.readAt) > this.maxStaleMs) {
        // Refresh ahead; a failure is left for a request that must wait to see.
        this.start(slot, t, load).catch(() => undefined);
      }
      return Promise.resolve(slot.read);
    }
    if (slot?.pending !== undefined) {
      this.onLookup('joined');
      return slot.pending;
    }
    this.onLookup('read');
    if (slot === undefined) {
      slot = {};
      this.slots.set(key, slot);
      if (this.slots.size > this.maxKeys) this.dropOldest();
    }
    return this.start(slot, t, load);
  }

  private start(s: Slot<T>, t: number, load: () => Promise<T>): Promise<FreshRead<T>> {
    const pending = load().then(
      (value) => {
        const prev = s.read;
        // The previous value is kept when equal, so answers built from it keep pointing at the same object.
        const same = prev !== undefined && sameValue(prev.value, value);
        const read = same
          ? { value: prev.value, readAt: t, generation: ++generations, version: prev.version }
          : { value, readAt: t, generation: ++generations, version: ++versions };
        s.read = read;
        s.pending = undefined;
        return read;
      },
      (err: unknown) => {
        // A failed read is not remembered: the next request tries again.
        s.pending = undefined;
        throw err;
      },
    );
    s.pending = pending;
    return pending;
  }

  private dropOldest(): void {
    for (const [k, s] of this.slots) {
      if (s.pending !== undefined) continue;
      this.slots.delete(k);
      return;
    }
  }
}
