/**
 * A hash set of event ids (with one 32-bit payload hash each) that lives in a few typed arrays
 * instead of millions of JS strings and Map entries. A batch run keeps every id of history for
 * its exact dedupe; as heap objects they cost the main thread more in garbage-collector marking
 * than in look-ups, and a V8 Map holds at most 2^24 entries. Here the garbage collector sees
 * six arrays, whatever the number of ids.
 *
 * Layout: open addressing with linear probing over `slots` (entry index + 1, 0 = empty), sized to
 * a power of two and kept at most 3/4 full. Entry i has its id hash, payload hash, and its id's
 * UTF-16 code units in `arena` at starts[i]: one byte per unit when every unit is below 0x100
 * (ASCII and Latin-1 ids: the usual case), else two bytes per unit; meta[i] = units * 2 + wide.
 * Placement trusts the caller's id hash (fnv1a32, computed by the worker that read the id);
 * equality never does: it compares every code unit, so two ids are one entry only when they are
 * the same string.
 */
const EMPTY = 0;
const MAX_LOAD = 0.75;
const MAX_ARENA_BYTES = 2 ** 32 - 1; // starts[] are Uint32

function grown<T extends Uint8Array | Uint32Array>(a: T, minLength: number): T {
  if (a.length >= minLength) return a;
  let n = Math.max(16, a.length);
  while (n < minLength) n *= 2;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** Where a probe for an id ended: at its entry, or at the empty slot where it would go. */
export type Probe = { found: true; entry: number } | { found: false; slot: number };

export class IdTable {
  private slots = new Int32Array(1024);
  /** 32 - log2(slots.length): home() keeps the top bits of the mixed hash */
  private shift = 32 - 10;
  private idHashes = new Uint32Array(256);
  private payloads = new Uint32Array(256);
  private starts = new Uint32Array(256);
  private metas = new Uint32Array(256);
  private arena = new Uint8Array(4096);
  private arenaUsed = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Bytes held by the arrays (what one more id roughly costs: see dedupe.ts). */
  get bytes(): number {
    return this.slots.byteLength + this.idHashes.byteLength + this.payloads.byteLength + this.starts.byteLength + this.metas.byteLength + this.arena.byteLength;
  }

  payloadOf(entry: number): number {
    return this.payloads[entry] as number;
  }

  /** Looks `id` up. Call insert() with the returned slot (before any other call) to add it. */
  probe(id: string, idHash: number): Probe {
    if ((this.count + 1) / this.slots.length > MAX_LOAD) this.rehash(this.slots.length * 2);
    const mask = this.slots.length - 1;
    for (let slot = this.home(idHash); ; slot = (slot + 1) & mask) {
      const e = this.slots[slot] as number;
      if (e === EMPTY) return { found: false, slot };
      if (this.idHashes[e - 1] === idHash && this.equals(e - 1, id)) return { found: true, entry: e - 1 };
    }
  }

  /** Adds `id` at the empty `slot` that probe() returned for it. False when the arena is full. */
  insert(slot: number, id: string, idHash: number, payload: number): boolean {
    let wide = 0;
    for (let i = 0; i < id.length; i++) if (id.charCodeAt(i) > 0xff) wide = 1;
    const bytes = id.length * (1 + wide);
    if (this.arenaUsed + bytes > MAX_ARENA_BYTES) return false;
    const e = this.count;
    this.idHashes = grown(this.idHashes, e + 1);
    this.payloads = grown(this.payloads, e + 1);
    this.starts = grown(this.starts, e + 1);
    this.metas = grown(this.metas, e + 1);
    this.arena = grown(this.arena, this.arenaUsed + bytes);
    const at = this.arenaUsed;
    if (wide === 0) {
      for (let i = 0; i < id.length; i++) this.arena[at + i] = id.charCodeAt(i);
    } else {
      for (let i = 0; i < id.length; i++) {
        const u = id.charCodeAt(i);
        this.arena[at + 2 * i] = u & 0xff;
        this.arena[at + 2 * i + 1] = u >>> 8;
      }
    }
    this.idHashes[e] = idHash;
    this.payloads[e] = payload;
    this.starts[e] = at;
    this.metas[e] = id.length * 2 + wide;
    this.arenaUsed += bytes;
    this.slots[slot] = e + 1;
    this.count++;
    return true;
  }

  /** Fibonacci hashing: the top bits of hash * 2^32/phi, which every bit of the hash feeds. */
  private home(idHash: number): number {
    return Math.imul(idHash, 0x9e3779b1) >>> this.shift;
  }

  private equals(e: number, id: string): boolean {
    const meta = this.metas[e] as number;
    if (meta >>> 1 !== id.length) return false;
    const at = this.starts[e] as number;
    const arena = this.arena;
    if ((meta & 1) === 0) {
      for (let i = 0; i < id.length; i++) if (arena[at + i] !== id.charCodeAt(i)) return false;
    } else {
      for (let i = 0; i < id.length; i++) if (((arena[at + 2 * i] as number) | ((arena[at + 2 * i + 1] as number) << 8)) !== id.charCodeAt(i)) return false;
    }
    return true;
  }

  private rehash(size: number): void {
    const slots = new Int32Array(size);
    const mask = size - 1;
    this.shift = 32 - Math.log2(size);
    for (let e = 0; e < this.count; e++) {
      let slot = this.home(this.idHashes[e] as number);
      while (slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      slots[slot] = e + 1;
    }
    this.slots = slots;
  }
}
