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
 *
 * Checked rereads: a read given a content check (SpeedReadModel.contentCheck) reads its cheap
 * token first; when it equals the token of the slot's last full read, and the clock is before that
 * check's validUntil, the content is known unchanged and is not read again: the read is renewed
 * (new readAt, same value and version). A 7-day range is then one small round trip per refresh
 * instead of rereading every bucket and HLL of the range (issue 16's totals under load).
 *
 * Shared checks: reads of the same range (a series' rows and its sketches) name the same
 * `checkKey`, and a refresh joins a check of that key started at most a quarter of the bound
 * before it (in flight or done) instead of taking its own. A read renewed by a shared check says
 * when that check started (`readAt`): the token then was the last full read's, so the content was
 * current then, and its age is measured from then.
 */
import type { ContentCheck } from '../query/context.js';
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

/** A content check and when it was started (this process's clock). */
interface TakenCheck {
  at: number;
  pending: Promise<ContentCheck>;
}

interface Slot<T> {
  read?: FreshRead<T>;
  pending?: Promise<FreshRead<T>>;
  /** the content check taken before the last full read */
  checked?: ContentCheck;
}

/** A refresh's outcome: the content known unchanged (the last read's value, not read again), or read (after its check, if any). */
interface Loaded<T> {
  unchanged: boolean;
  /** when the content was known current: the shared check's start when unchanged, else the refresh's */
  at: number;
  value: T;
  checked?: ContentCheck;
}

export type LookupOutcome = 'fresh' | 'joined' | 'read' | 'unchanged';

let generations = 0;
let versions = 0;

export class FreshReads<T> {
  private readonly slots = new Map<string, Slot<T>>();
  private readonly checks = new Map<string, TakenCheck>();

  constructor(
    private readonly maxStaleMs: number,
    private readonly now: () => number,
    /** distinct keys remembered (oldest dropped first); each holds one read */
    private readonly maxKeys = 512,
    /** per lookup (fresh, joined, read) and per checked reread that found the content unchanged */
    private readonly onLookup: (outcome: LookupOutcome) => void = () => undefined,
  ) {}

  /**
   * `check`: the content check of what `load` reads, if it has one (checked rereads, above);
   * `checkKey`: names that check, so reads of the same range share it (shared checks, above).
   */
  get(key: string, load: () => Promise<T>, check?: () => Promise<ContentCheck>, checkKey = key): Promise<FreshRead<T>> {
    const shared = check === undefined ? undefined : () => this.sharedCheck(checkKey, check);
    const t = this.now();
    let slot = this.slots.get(key);
    if (slot?.read !== undefined && t - slot.read.readAt <= this.maxStaleMs) {
      this.onLookup('fresh');
      if (slot.pending === undefined && 2 * (t - slot.read.readAt) > this.maxStaleMs) {
        // Refresh ahead; a failure is left for a request that must wait to see.
        this.start(slot, t, load, shared).catch(() => undefined);
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
    return this.start(slot, t, load, shared);
  }

  /** A check of `key` started at most a quarter of the bound ago, or a new one (shared checks, above). */
  private sharedCheck(key: string, check: () => Promise<ContentCheck>): TakenCheck {
    const t = this.now();
    const taken = this.checks.get(key);
    if (taken !== undefined && 4 * (t - taken.at) <= this.maxStaleMs) return taken;
    const fresh: TakenCheck = { at: t, pending: check() };
    // A failed check is not shared: the next refresh takes its own.
    fresh.pending.catch(() => {
      if (this.checks.get(key) === fresh) this.checks.delete(key);
    });
    this.checks.set(key, fresh);
    if (this.checks.size > this.maxKeys) this.checks.delete(this.checks.keys().next().value as string);
    return fresh;
  }

  private start(s: Slot<T>, t: number, load: () => Promise<T>, check?: () => TakenCheck): Promise<FreshRead<T>> {
    const pending = this.checkedLoad(s, t, load, check).then(
      (loaded) => {
        const prev = s.read;
        if (loaded.unchanged) this.onLookup('unchanged');
        else s.checked = loaded.checked;
        // The previous value is kept when equal, so answers built from it keep pointing at the same object.
        const same = prev !== undefined && (loaded.unchanged || sameValue(prev.value, loaded.value));
        const read: FreshRead<T> = same
          ? { value: prev.value, readAt: loaded.at, generation: ++generations, version: prev.version }
          : { value: loaded.value, readAt: loaded.at, generation: ++generations, version: ++versions };
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

  /** The check first (so the content kept with it is never older), then the load unless it is unneeded. */
  private async checkedLoad(s: Slot<T>, t: number, load: () => Promise<T>, check?: () => TakenCheck): Promise<Loaded<T>> {
    if (check === undefined) return { unchanged: false, at: t, value: await load() };
    const before = s.checked;
    const taken = check();
    const checked = await taken.pending;
    if (s.read !== undefined && before !== undefined && taken.at < before.validUntil && checked.token === before.token)
      return { unchanged: true, at: taken.at, value: s.read.value };
    return { unchanged: false, at: t, value: await load(), checked };
  }

  private dropOldest(): void {
    for (const [k, s] of this.slots) {
      if (s.pending !== undefined) continue;
      this.slots.delete(k);
      return;
    }
  }
}
