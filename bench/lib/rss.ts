/**
 * Peak resident memory of this process, worker threads and native allocations (SQLite, DuckDB)
 * included: the kernel's high-water mark (getrusage maxRSS), cross-checked by sampling
 * process.memoryUsage.rss() every 50 ms (the larger of the two is reported).
 */
export class RssSampler {
  private peak = process.memoryUsage.rss();
  private readonly timer = setInterval(() => {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }, 50);

  stop(): void {
    clearInterval(this.timer);
  }

  peakBytes(): number {
    return Math.max(this.peak, process.resourceUsage().maxRSS * 1024);
  }
}
