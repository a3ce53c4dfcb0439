/** The batch catalog on a real SQLite file: lease semantics, publish/prune, pointer generation. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchCatalog } from '../../adapters/sqlite/catalog.js';
import type { BatchRunRecord, LeaseClaim } from '../../shared/batch/run-record.js';

function claim(holder: string, runId = `run-${holder}`): LeaseClaim {
  return { holder, pid: 4242, hostname: 'h', runId, startedAt: 1000, leaseMs: 10_000 };
}

function record(runId: string): BatchRunRecord {
  return {
    runId,
    watermark: 0,
    arrivalComplete: null,
    startedAt: 1,
    finishedAt: 2,
    counts: { files: 0, eventsRead: 0, invalid: {}, duplicates: 0, groups: 0, duplicatesDifferingPayload: 0, bytesRead: 0, eventsKept: 0 },
    timings: { snapshotMs: 0, mapMs: 0, mergeMs: 0, writeMs: 0, publishMs: null, totalMs: null },
    workers: 1,
    viewsHash: 'h',
    viewsSource: 's',
  };
}

const never = () => false;
const progress = { phase: 'map' as const, filesDone: 1, filesTotal: 2, bytesDone: 3, bytesTotal: 4, eventsRead: 5, updatedAt: 6 };

describe('batch catalog', () => {
  let dir: string;
  let a: BatchCatalog;
  let b: BatchCatalog;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'catalog-'));
    a = BatchCatalog.open(dir);
    b = BatchCatalog.open(dir); // a second connection, as another process would have
  });
  afterEach(() => {
    a.close();
    b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('grants the lease to one holder; the other sees who holds it', () => {
    expect(a.acquireLease(claim('A'), 0, never)).toEqual({ acquired: true });
    const r = b.acquireLease(claim('B'), 5_000, never);
    expect(r).toMatchObject({ acquired: false, lease: { holder: 'A', runId: 'run-A', pid: 4242, expiresAt: 10_000 } });
    expect(a.heartbeat('A', 20_000, progress)).toBe(true);
    expect(b.lease()).toMatchObject({ holder: 'A', expiresAt: 20_000, progress });
    a.releaseLease('A');
    expect(b.lease()).toBeNull();
    expect(b.acquireLease(claim('B'), 5_000, never)).toEqual({ acquired: true });
  });

  it('an expired lease, or one whose holder is gone, may be taken over; the old holder then cannot renew or publish', () => {
    a.acquireLease(claim('A'), 0, never);
    expect(b.acquireLease(claim('B'), 9_999, never).acquired).toBe(false);
    expect(b.acquireLease(claim('B'), 10_000, never).acquired).toBe(true);
    expect(a.heartbeat('A', 50_000, progress)).toBe(false);
    expect(() => a.publish('A', { record: record('r-A'), file: 'r-A.sqlite', publishedAt: 1 }, 5)).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(a.acquireLease(claim('C'), 11_000, (l) => l.holder === 'B').acquired).toBe(true);
    expect(b.lease()?.holder).toBe('C');
    a.releaseLease('B'); // not the holder: no effect
    expect(b.lease()?.holder).toBe('C');
  });

  it('publishes atomically, bumps the generation, and prunes to the newest K', () => {
    expect(b.pointer()).toEqual({ generation: 0, runId: null });
    a.acquireLease(claim('A'), 0, never);
    const pruned: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const p = a.publish('A', { record: record(`r${i}`), file: `r${i}.sqlite`, publishedAt: i }, 2);
      pruned.push(...p.map((k) => k.file));
      expect(b.pointer()).toEqual({ generation: i, runId: `r${i}` });
    }
    expect(pruned).toEqual(['r1.sqlite', 'r2.sqlite']);
    expect(b.runs().map((r) => r.record.runId)).toEqual(['r4', 'r3']);
    const updated = { ...record('r4'), timings: { ...record('r4').timings, publishMs: 7, totalMs: 9 } };
    a.updateRecord(updated);
    expect(b.snapshot()).toMatchObject({ generation: 5, runId: 'r4', runs: [{ record: updated }, { record: { runId: 'r3' } }] });
  });

  it('remembers the last failure', () => {
    expect(a.lastFailure()).toBeNull();
    a.recordFailure({ runId: 'x', at: 5, code: 'DEDUPE_BUDGET_EXCEEDED', message: 'too many' });
    expect(b.lastFailure()).toEqual({ runId: 'x', at: 5, code: 'DEDUPE_BUDGET_EXCEEDED', message: 'too many' });
  });
});
