/**
 * Fenced segment writes (issue 12, hole 2), on local files and on S3 (S3Proxy): a segment write
 * never replaces a different segment of the same name. The same bytes again are an idempotent
 * replay; other bytes are refused (CONFLICT). A stalled archiver whose flush comes after the
 * instance that took its partition over archived a longer segment and its checkpoint leaves that
 * segment alone; an orphan segment (its flush never reached a checkpoint) is replaced only by an
 * owner whose commit is accepted, and only if it is still the same object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaDeadLetterSink } from '../../adapters/kafka/dead-letter-sink.js';
import { EventProducer } from '../../adapters/kafka/producer.js';
import type { S3MasterDataset } from '../../adapters/master/index.js';
import { asSegmentConflict, LocalMasterDataset, openMasterDataset } from '../../adapters/master/index.js';
import { FencedError, flushSegment, SegmentTakenError, type FlushTarget } from '../../batch-layer/archiver/segment-flush.js';
import type { SegmentDraft } from '../../batch-layer/archiver/partition-state.js';
import { loadConfig } from '../../platform/config.js';
import { silentLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import type { MasterDataset, MasterSegment } from '../../shared/ports.js';
import { testKafka } from '../support/archiver-kafka.js';
import { readMaster } from '../support/master-read.js';
import { createTestBucket, s3Overrides, type TestBucket } from '../support/s3-bucket.js';
import { testContext } from '../support/context.js';

const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const TOPIC = 'fenced';

const line = (i: number) => JSON.stringify({ id: `f-${i}`, ts: T0 + i, type: 'pageview', url: '/x', user: 'u' });
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => line(from + k));
const segment = (firstOffset: number, ls: string[]): MasterSegment => ({ topic: TOPIC, partition: 0, firstOffset, arrivalTs: T0, lines: ls });
const draft = (firstOffset: number, lastOffset: number): SegmentDraft => ({
  partition: 0,
  firstOffset,
  lastOffset,
  arrivalTs: T0,
  lines: lines(firstOffset, lastOffset),
  letters: [],
  completeThrough: T0 + lastOffset,
  gaps: [],
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

interface Backend {
  name: string;
  open(): Promise<{ master: MasterDataset; cleanup(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'local files',
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'fencing-'));
      return { master: new LocalMasterDataset(join(dir, 'master')), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'S3',
    open: async () => {
      const bucket: TestBucket = await createTestBucket();
      const master = openMasterDataset(loadConfig(s3Overrides(bucket.url('m')), process.cwd()), silentLogger()) as S3MasterDataset;
      return {
        master,
        cleanup: async () => {
          master.close();
          await bucket.cleanup();
        },
      };
    },
  },
];

describe.each(backends)('fenced segment writes: $name', (backend) => {
  let master: MasterDataset;
  let cleanup: () => Promise<void>;
  let target: FlushTarget;
  const conflicts: string[] = [];
  const kafka = testKafka(testContext().config.kafka.brokers);

  beforeAll(async () => {
    ({ master, cleanup } = await backend.open());
    target = {
      topic: TOPIC,
      master,
      deadLetters: new KafkaDeadLetterSink(new EventProducer(kafka), `${TOPIC}.dlq`),
      metrics: createMetrics(),
      onConflict: (k) => conflicts.push(k),
    };
  });
  afterAll(async () => cleanup());

  it('refuses to replace a different segment of the same name; the same bytes again are a replay', async () => {
    const big = segment(100, lines(100, 199));
    const file = await master.writeSegment(big);
    expect(await master.writeSegment(big)).toEqual(file); // idempotent replay

    const err = await rejection(master.writeSegment(segment(100, lines(100, 149))));
    expect(asSegmentConflict(err)?.key).toBe(file.key);
    expect((await readMaster(master)).lines.get(`${TOPIC}-0`)).toEqual(lines(100, 199));
  });

  it('a stalled archiver cannot overwrite the longer segment its successor archived and checkpointed', async () => {
    // The successor archived 200..399 in one segment and checkpointed it.
    const successor = await flushSegment(target, draft(200, 399), async () => undefined, T0);
    expect(successor.checkpoint.lastOffset).toBe(399);
    // The stalled archiver wakes with its older, shorter draft of the same range. Kafka would
    // reject its commit; the write before it must already leave the successor's segment alone.
    const stale = await rejection(flushSegment(target, draft(200, 250), async () => Promise.reject(new FencedError(0)), T0 + 1));
    expect(stale).toBeInstanceOf(SegmentTakenError);
    expect(conflicts.length).toBeGreaterThan(0);
    const archived = (await readMaster(master)).lines.get(`${TOPIC}-0`) ?? [];
    expect(archived.filter((l) => JSON.parse(l).id >= 'f-200' && JSON.parse(l).id <= 'f-399')).toHaveLength(200);
    expect((await master.readCheckpoints()).find((c) => c.topic === TOPIC)?.lastOffset).toBe(399);
  });

  it('replaces an orphan segment (never checkpointed) only for an owner whose commit is accepted', async () => {
    // An orphan at 400: written, but the flush died before its checkpoint.
    const orphan = await master.writeSegment(segment(400, lines(400, 449)));
    // A member that lost the partition cannot replace it: its commit is rejected.
    expect(await rejection(flushSegment(target, draft(400, 420), async () => Promise.reject(new FencedError(0)), T0 + 2))).toBeInstanceOf(FencedError);
    expect((await readMaster(master)).lines.get(`${TOPIC}-0`)?.slice(-50)).toEqual(lines(400, 449));
    // The owner (commit accepted) replaces it with its own draft and checkpoints.
    const owner = await flushSegment(target, draft(400, 480), async () => undefined, T0 + 3);
    expect(owner.file?.key).toBe(orphan.key);
    expect(owner.checkpoint.lastOffset).toBe(480);
    expect((await readMaster(master)).lines.get(`${TOPIC}-0`)?.slice(-81)).toEqual(lines(400, 480));
  });

  it('replacing is a compare-and-swap: a stale token does not replace what another writer put there', async () => {
    await master.writeSegment(segment(600, lines(600, 609)));
    const seen = asSegmentConflict(await rejection(master.writeSegment(segment(600, lines(600, 605)))));
    expect(seen).not.toBeNull();
    // Another owner replaced the orphan in between.
    await master.writeSegment(segment(600, lines(600, 650)), { replacing: seen?.existing as string });
    const late = await rejection(master.writeSegment(segment(600, lines(600, 602)), { replacing: seen?.existing as string }));
    expect(asSegmentConflict(late)).not.toBeNull();
    expect((await readMaster(master)).lines.get(`${TOPIC}-0`)?.slice(-51)).toEqual(lines(600, 650));
  });
});
