/**
 * Runs async jobs one at a time, in call order. The archiver's Kafka batches, its timed flushes and
 * its idle heartbeats all touch the same partition state and the same files: serialising them keeps
 * every flush (DLQ -> file -> commit -> checkpoint) a unit that nothing else interleaves with.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    // The queue goes on after a failed job; the caller still sees the failure.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
