/**
 * In-memory fakes of the speed layer's ports (shared/speed/ports.ts, shared/ports.ts DeadLetterSink),
 * for unit tests of its logic without Redis or Kafka. The state store keeps the one property the
 * speed layer's exactly-once rests on: an apply writes only if the partition still stores the
 * offset it was planned against (docs/design-decisions.md §6); claims give an id to its first copy.
 * Integration tests use the real adapters instead.
 */
import type { DeadLetter, DeadLetterSink } from '../../shared/ports.js';
import { CLAIM_DUPLICATE, CLAIM_OWNED, type ClaimItem, type SpeedApply } from '../../shared/speed/apply.js';
import { NO_CONTROL, type SpeedControl } from '../../shared/speed/control.js';
import type { ApplyOutcome, PartitionReport, PartitionState, ReplayRecord, SpeedStateStore, TopicOffsets } from '../../shared/speed/ports.js';

export class FakeSpeedStateStore implements SpeedStateStore {
  readonly partitions = new Map<number, PartitionState>();
  readonly registered = new Set<number>();
  /** event id -> the copy that owns it ("partition:offset") */
  readonly owners = new Map<string, string>();
  /** every apply that was written, in order */
  readonly applied: SpeedApply[] = [];
  watermark: number | null = null;
  /** the runtime control (shared/speed/control.ts) every read returns */
  control: SpeedControl = NO_CONTROL;
  status: readonly PartitionReport[] = [];
  /** set: the next apply finds the store rolled back to this offset (Redis restarted from an older snapshot) */
  rollbackBeforeNextApply: { partition: number; next: number } | null = null;

  initPartition(
    topic: string,
    partition: number,
    initial: { next: number; coveredSince: number },
  ): Promise<PartitionState & { created: boolean; previousLayout: string | null }> {
    this.registered.add(partition);
    const stored = this.partitions.get(partition);
    if (stored) return Promise.resolve({ ...stored, created: false, previousLayout: null });
    const state = { next: initial.next, coveredSince: initial.coveredSince, topic };
    this.partitions.set(partition, state);
    return Promise.resolve({ ...state, created: true, previousLayout: null });
  }

  registerPartition(partition: number): Promise<void> {
    this.registered.add(partition);
    return Promise.resolve();
  }

  readPartition(partition: number): Promise<PartitionState | null> {
    const s = this.partitions.get(partition);
    return Promise.resolve(s ? { ...s } : null);
  }

  async readStateAndWatermark(partition: number): Promise<{ state: PartitionState | null; watermark: number | null; control: SpeedControl }> {
    return { state: await this.readPartition(partition), watermark: this.watermark, control: this.control };
  }

  readControl(): Promise<SpeedControl> {
    return Promise.resolve(this.control);
  }

  claim(partition: number, items: readonly ClaimItem[]): Promise<Uint8Array> {
    return Promise.resolve(
      Uint8Array.from(items, (it) => {
        const copy = `${partition}:${it.offset}`;
        const owner = this.owners.get(it.id);
        if (owner === undefined) this.owners.set(it.id, copy);
        return owner === undefined || owner === copy ? CLAIM_OWNED : CLAIM_DUPLICATE;
      }),
    );
  }

  apply(a: SpeedApply): Promise<ApplyOutcome> {
    const rollback = this.rollbackBeforeNextApply;
    if (rollback !== null) {
      this.rollbackBeforeNextApply = null;
      const lost = this.partitions.get(rollback.partition);
      if (lost) lost.next = rollback.next;
    }
    const s = this.partitions.get(a.partition);
    if (!s || s.next !== a.expectedNext) return Promise.resolve({ applied: false, storedNext: s?.next ?? null });
    s.next = a.newNext;
    if (a.coveredSince !== undefined) s.coveredSince = Math.max(s.coveredSince, a.coveredSince);
    this.applied.push(a);
    return Promise.resolve({ applied: true, expiredGroups: 0 });
  }

  writeStatus(progress: readonly PartitionReport[]): Promise<void> {
    this.status = progress;
    return Promise.resolve();
  }

  /** replays recorded, newest first */
  readonly replays: ReplayRecord[] = [];

  recordReplay(replay: ReplayRecord): Promise<void> {
    this.replays.unshift(replay);
    return Promise.resolve();
  }
}

/** A topic whose partitions hold offsets `logStart..end - 1`, record i having timestamp `timeOf(i)`. */
export function fakeTopicOffsets(o: { logStart: number; end: number; timeOf: (offset: number) => number }): TopicOffsets & { ensured: string[] } {
  const ensured: string[] = [];
  const offsetsFor = (pick: () => number) => Promise.resolve(new Map([[0, pick()]]));
  return {
    ensured,
    ensureTopics: (topics) => {
      ensured.push(...topics.map((t) => t.topic));
      return Promise.resolve();
    },
    endOffsets: () => offsetsFor(() => o.end),
    logStartOffsets: () => offsetsFor(() => o.logStart),
    offsetsForTime: (_topic, ts) =>
      offsetsFor(() => {
        for (let i = o.logStart; i < o.end; i++) if (o.timeOf(i) >= ts) return i;
        return o.end;
      }),
  };
}

export class FakeDeadLetterSink implements DeadLetterSink {
  readonly sent: DeadLetter[] = [];
  running = false;

  start(): Promise<void> {
    this.running = true;
    return Promise.resolve();
  }

  send(letters: readonly DeadLetter[]): Promise<void> {
    this.sent.push(...letters);
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.running = false;
    return Promise.resolve();
  }
}
