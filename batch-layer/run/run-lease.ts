/**
 * "Never two runs at once", in one process or across processes (docs/design-decisions.md §5). node-cron's noOverlap
 * only covers one scheduled task; manual runs (CLI, HTTP) and other processes need a lease in the
 * catalog (the RunCatalog port, shared/batch/ports.ts; adapters/sqlite/catalog.ts implements it). The holder renews it while the run goes on; if it
 * stops renewing (hung, killed), the lease expires after LAMBDA_BATCH_LEASE_MS and may be taken
 * over. On the same host we do not wait for the expiry when the holder's process is gone.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { LambdaError } from '../../shared/errors.js';
import type { RunCatalog } from '../../shared/batch/ports.js';
import type { LeaseInfo, RunProgress } from '../../shared/batch/run-record.js';

const HOST = hostname();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: existence check only
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A lease is abandoned when its process is known to be dead: same host, another pid, and that pid
 * no longer exists. (A reused pid only makes us wait for the expiry: the safe direction.)
 */
export function holderGone(lease: LeaseInfo): boolean {
  return lease.hostname === HOST && lease.pid !== process.pid && !processAlive(lease.pid);
}

export function batchRunningError(lease: LeaseInfo): LambdaError {
  return new LambdaError('BATCH_RUNNING', `a batch run is already in progress (run ${lease.runId}, pid ${lease.pid} on ${lease.hostname})`, {
    retriable: true,
    details: { runId: lease.runId, startedAt: lease.startedAt, progress: lease.progress, pid: lease.pid, hostname: lease.hostname },
  });
}

/** A held lease, renewed on a timer until released. `lost` is set when a renewal found it taken over. */
export class RunLease {
  readonly holder = randomUUID();
  lost = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly catalog: RunCatalog,
    private readonly leaseMs: number,
    private readonly progress: () => RunProgress,
    private readonly onLost: () => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Takes the lease or throws BATCH_RUNNING (retriable) with the running run's id and progress. */
  acquire(runId: string, startedAt: number): void {
    const claim = { holder: this.holder, pid: process.pid, hostname: HOST, runId, startedAt, leaseMs: this.leaseMs };
    const r = this.catalog.acquireLease(claim, Date.now(), holderGone);
    if (!r.acquired) throw batchRunningError(r.lease);
    // Renew well before expiry; at most every second so progress is fresh for status pages.
    this.timer = setInterval(() => this.renew(), Math.min(1000, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
    this.renew();
  }

  /** Extends the lease and stores the current progress; also called on phase changes. */
  renew(): void {
    if (this.lost || this.timer === null) return;
    let ours: boolean;
    try {
      ours = this.catalog.heartbeat(this.holder, Date.now() + this.leaseMs, this.progress());
    } catch (err) {
      // e.g. the catalog stayed locked past busy_timeout: the next beat tries again, and a lease
      // lost meanwhile is caught by the next beat or by publish(), which re-checks the holder.
      this.onError(err);
      return;
    }
    if (!ours) {
      this.lost = true;
      this.onLost();
    }
  }

  release(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.lost) return;
    try {
      this.catalog.releaseLease(this.holder);
    } catch (err) {
      // Not fatal: the lease expires after LAMBDA_BATCH_LEASE_MS and is then taken over.
      this.onError(err);
    }
  }
}
