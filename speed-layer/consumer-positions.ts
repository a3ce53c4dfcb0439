/**
 * Where the speed layer's consumer reads each partition next, as this process last set it
 * (docs/design-decisions.md, "Speed layer"): the one owner of that map. Three parts move it, each
 * for its own reason: an assignment positions every partition at the offset Redis holds
 * (speed-layer.ts), an applied fetch batch moves it on (the consumer goes on by itself), and a
 * replay moves it back to Redis's offset when Redis lost writes (found by the fetch handler or by
 * the status reporter's periodic audit). A seek and the position it sets are one step here, so no
 * caller can do one without the other.
 */
export class ConsumerPositions {
  private readonly next = new Map<number, number>();

  constructor(private readonly seekConsumer: (partition: number, offset: number) => void) {}

  /** the offset the consumer fetches next on `partition`; undefined before it is positioned */
  of(partition: number): number | undefined {
    return this.next.get(partition);
  }

  /** moves the consumer of `partition` to `offset` (an assignment, or a replay of what Redis lost) */
  seekTo(partition: number, offset: number): void {
    this.seekConsumer(partition, offset);
    this.next.set(partition, offset);
  }

  /** a fetch batch was applied through `next`: the consumer moved on by itself, no seek */
  advanced(partition: number, next: number): void {
    this.next.set(partition, next);
  }

  /** a new assignment: no partition is positioned until it is sought */
  clear(): void {
    this.next.clear();
  }
}
