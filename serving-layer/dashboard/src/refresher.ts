/**
 * Runs the dashboard's refresh now and then every few seconds, never two at once: a request for
 * a refresh while one is in flight runs once more right after it. A hidden tab is not refreshed
 * (nobody is watching); it catches up as soon as it is shown again.
 */
export class Refresher {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private again = false;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly intervalSec: () => number,
  ) {
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.now();
    });
  }

  now(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = true;
    void this.work().finally(() => {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.now();
      } else {
        this.schedule();
      }
    });
  }

  private schedule(): void {
    const sec = this.intervalSec();
    if (sec <= 0) return;
    this.timer = setTimeout(() => (document.hidden ? undefined : this.now()), sec * 1000);
  }
}
