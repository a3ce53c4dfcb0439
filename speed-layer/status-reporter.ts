/**
 * Every few seconds: writes this consumer's partition progress to Redis (the serving layer, in
 * another process, reads it) and checks that Redis still holds at least the offsets we applied.
 * If Redis went back (restarted from an older AOF/RDB, or was restored), the consumer seeks back to
 * what Redis holds, so the views and the offset stay one consistent prefix of the log, even while
 * no new records arrive to reveal the gap.
 */
import type { ConsumerPositions } from './consumer-positions.js';
import type { Logger } from '../platform/logger.js';
import type { ControlReport } from '../shared/speed/control.js';
import type { PartitionState, SpeedStateStore } from '../shared/speed/ports.js';
import type { ProgressTracker } from './progress.js';
import type { ReplayNotes } from './replays.js';

export interface StatusReporterDeps {
  store: Pick<SpeedStateStore, 'readPartition' | 'writeStatus'>;
  progress: ProgressTracker;
  log: Logger;
  intervalMs: number;
  assigned(): number[];
  positions: ConsumerPositions;
  replays: Pick<ReplayNotes, 'note'>;
  /**
   * Run on every tick before the report is written: the layer reads the runtime control (a paused
   * consumer fetches nothing, so only this sees the resume) and, while paused, the partition ends,
   * so the lag keeps growing in the status. Its failure fails the tick (the next one tries again).
   */
  beforeWrite?(): Promise<void>;
  /** the runtime control the consumer obeys, written beside each partition's progress */
  controlReport?(): ControlReport;
}

export class StatusReporter {
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(private readonly d: StatusReporterDeps) {}

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.d.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** A last report (best effort, e.g. on stop). */
  async flush(): Promise<void> {
    await this.write().catch((err: unknown) => this.d.log.debug({ err }, 'final status write failed'));
  }

  async reportTopicPartitions(n: number): Promise<void> {
    await this.d.store.writeStatus([], n).catch((err: unknown) => this.d.log.debug({ err }, 'status write failed'));
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const p of this.d.assigned()) await this.audit(p);
      await this.d.beforeWrite?.();
      await this.write();
      this.d.progress.updateEventTimeLag(Date.now());
    } catch (err) {
      // Redis down: the batch handler's retries log it; the next tick tries again.
      this.d.log.debug({ err }, 'status tick failed');
    } finally {
      this.running = false;
    }
  }

  private async audit(partition: number): Promise<void> {
    // Position first: the stored offset only grows, so stored < a position read before it means
    // Redis lost writes (an apply racing with this check can only make stored larger).
    const position = this.d.positions.of(partition);
    if (position === undefined) return;
    const state: PartitionState | null = await this.d.store.readPartition(partition);
    // The fetch handler may have found it meanwhile (it then moved the position back itself).
    if (state === null || state.next >= position || this.d.positions.of(partition) !== position) return;
    this.d.positions.seekTo(partition, state.next);
    this.d.progress.noteNext(partition, state.next);
    await this.d.replays.note(partition, state.next, position, 'audit');
  }

  private async write(): Promise<void> {
    const progress = this.d.progress.snapshot(this.d.assigned(), Date.now());
    const control = this.d.controlReport?.();
    await this.d.store.writeStatus(control ? progress.map((p) => ({ ...p, ...control })) : progress, null);
  }
}
