/**
 * Seven days of clickstream for the serving bench, laid out as the running service would have it:
 * everything older than 6 hours archived in the master dataset and published by a batch run
 * (run in its own process, as the batch role would), and the last 24 hours also in Kafka and
 * applied by the speed layer, so a 7-day series reads both stores and the drift report has 18
 * hours that both layers hold.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Redis } from 'ioredis';
import { LocalMasterDataset } from '../../adapters/master/index.js';
import { ensureTopics } from '../../adapters/kafka/topics.js';
import { retentionPolicy } from '../../shared/speed/retention.js';
import { RedisSpeedViewStore } from '../../adapters/redis/speed-view-store.js';
import { clickstream } from '../../shared/generator/clickstream.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import type { BenchContext } from '../lib/bench-context.js';
import { runJsonChild } from '../lib/child.js';
import { preProduce } from '../speed/produce.js';
import { appliedOffsets, spawnSpeed, stopChild } from '../speed/speed-run.js';

const HOUR = 3_600_000;

export interface ServingData {
  batchEvents: number;
  speedEvents: number;
  now: number;
}

export async function seedServingData(ctx: BenchContext, ratePerSec: number): Promise<ServingData> {
  const { config } = ctx;
  const now = Date.now();
  const start = now - 7 * 24 * HOUR;
  const batchCut = now - 6 * HOUR;
  const speedFrom = now - 24 * HOUR;
  const master = new LocalMasterDataset(fileURLToPath(config.masterUrl));
  const kafkaPart: { key: string | null; value: string }[] = [];
  let lines: string[] = [];
  let batchEvents = 0;
  let offset = 0;
  const flush = async (arrivalTs: number) => {
    if (lines.length === 0) return;
    await master.writeSegment({ topic: config.kafka.topic, partition: 0, firstOffset: offset, arrivalTs, lines });
    offset += lines.length;
    batchEvents += lines.length;
    lines = [];
  };
  let n = 0;
  for (const r of clickstream({ seed: 5, startTs: start, rate: ratePerSec, duplicateFraction: 0.01, lateFraction: 0.02 })) {
    const arrival = start + Math.floor((n++ * 1000) / ratePerSec);
    if (arrival >= now) break;
    if (arrival < batchCut) {
      lines.push(r.value);
      if (lines.length >= 50_000) await flush(arrival);
    }
    if (arrival >= speedFrom) kafkaPart.push({ key: r.key, value: r.value });
  }
  await flush(batchCut - 1);
  for (let partition = 0; partition < config.kafka.partitions; partition++) {
    await master.writeCheckpoint({
      topic: config.kafka.topic,
      partition,
      lastOffset: partition === 0 ? offset - 1 : -1,
      completeThrough: batchCut,
      updatedAt: batchCut,
    });
  }
  await runJsonChild('bench/batch/run-child.ts', { BENCH_ENV: JSON.stringify(ctx.env) });

  const kafka = new Kafka({ clientId: 'lambda-bench-seed', brokers: [...config.kafka.brokers], logLevel: logLevel.NOTHING });
  await ensureTopics(kafka, [
    { topic: config.kafka.topic, partitions: config.kafka.partitions },
    { topic: config.kafka.dlqTopic, partitions: config.kafka.partitions },
  ]);
  await preProduce(kafka, config.kafka.topic, kafkaPart);
  const speed = spawnSpeed(ctx.env, join(ctx.dataDir, 'seed-speed.log'));
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 3 });
  try {
    const store = new RedisSpeedViewStore(redis, { prefix: config.redis.keyPrefix, views: defaultViewSet(), retention: retentionPolicy(config) });
    const deadline = Date.now() + 10 * 60_000;
    while ((await appliedOffsets(store)) < kafkaPart.length) {
      if (Date.now() > deadline) throw new Error('the speed layer did not apply the serving data within 10 minutes');
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await stopChild(speed);
    redis.disconnect();
  }
  return { batchEvents, speedEvents: kafkaPart.length, now };
}
