/**
 * A least-recently-used map bounded by the bytes its values hold (docs/design-decisions.md,
 * "Serving cache"): the serving cache's memory is stated in bytes (LAMBDA_SERVING_CACHE_MB), and
 * an answer of 700 KiB must weigh more than one of 2 KiB. A Map keeps insertion order, so
 * re-inserting on every hit makes its first key the least recently used.
 */
export class ByteLru<V> {
  private readonly map = new Map<string, { value: V; bytes: number }>();
  private total = 0;

  constructor(
    readonly maxBytes: number,
    private readonly onEvict: (count: number) => void = () => undefined,
  ) {}

  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  /** Stores (or replaces) a value weighing `bytes`; one heavier than the whole budget is not kept. */
  set(key: string, value: V, bytes: number): boolean {
    this.delete(key);
    if (bytes > this.maxBytes) return false;
    this.map.set(key, { value, bytes });
    this.total += bytes;
    let evicted = 0;
    for (const [k, e] of this.map) {
      if (this.total <= this.maxBytes) break;
      this.map.delete(k);
      this.total -= e.bytes;
      evicted++;
    }
    if (evicted > 0) this.onEvict(evicted);
    return true;
  }

  delete(key: string): void {
    const e = this.map.get(key);
    if (e === undefined) return;
    this.map.delete(key);
    this.total -= e.bytes;
  }

  /** Drops every entry the predicate picks (e.g. the answers of runs no longer kept). */
  deleteWhere(pick: (key: string, value: V) => boolean): number {
    let n = 0;
    for (const [k, e] of this.map) {
      if (!pick(k, e.value)) continue;
      this.map.delete(k);
      this.total -= e.bytes;
      n++;
    }
    return n;
  }
}
