/**
 * Runtime control of the speed layer (issue 20, the teaching lab): switches an operator sets
 * through the admin API and every speed-layer instance obeys, in whatever process it runs. They
 * are kept in one Redis hash (adapters/redis/keys.ts speedControlKey) that each instance reads
 * with the partition state at the start of every Kafka fetch batch (no extra round trip) and on
 * its status tick (so a paused consumer, which fetches nothing, still sees the resume). Pure
 * types and rules; the adapter reads and writes the hash.
 */

export interface SpeedControl {
  /** dedupe forced on or off by an admin; null: each instance follows its LAMBDA_SPEED_DEDUPE */
  dedupe: boolean | null;
  /** consumers pause fetching (kafkajs consumer.pause) while set */
  paused: boolean;
  /** raised by every change: an instance reports the version it obeys, so a caller can wait for all of them */
  version: number;
  /** when the last change was made (epoch ms); null before any */
  updatedAt: number | null;
}

/** What an instance obeys before anything was ever set. */
export const NO_CONTROL: SpeedControl = Object.freeze({ dedupe: null, paused: false, version: 0, updatedAt: null });

/** Where the dedupe setting an instance applies comes from. */
export type DedupeSource = 'LAMBDA_SPEED_DEDUPE' | 'admin';

/** The dedupe an instance applies: the admin's switch when set, else its own LAMBDA_SPEED_DEDUPE. */
export function effectiveDedupe(control: SpeedControl, envDefault: boolean): { dedupe: boolean; from: DedupeSource } {
  return control.dedupe === null ? { dedupe: envDefault, from: 'LAMBDA_SPEED_DEDUPE' } : { dedupe: control.dedupe, from: 'admin' };
}

/**
 * The control to obey after reading `read` while obeying `current`: the newer one (reads can come
 * back out of order: a fetch's and a status tick's), or the defaults again once the hash is gone
 * (version 0: deleted by an operator).
 */
export function newerControl(current: SpeedControl, read: SpeedControl): SpeedControl {
  return read.version > current.version || (read.version === 0 && current.version !== 0) ? read : current;
}

/** A change an admin asks for; absent fields stay as they are, `dedupe: null` clears the override. */
export interface SpeedControlChange {
  dedupe?: boolean | null;
  paused?: boolean;
}

/** What an instance reports per partition it owns, beside its progress (the status hash). */
export interface ControlReport {
  dedupe: boolean;
  dedupeFrom: DedupeSource;
  /** the consumer is paused and no batch is being applied */
  paused: boolean;
  /** the control version this report obeys */
  controlVersion: number;
}
