/**
 * The speed section's two steps, shared by the single-node rows and the cluster rows: a topic
 * filled with the speed stream before any consumer starts, and K speed processes run over it
 * (speed-run.ts), repeated and summarised.
 */
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopics } from '../../adapters/kafka/topics.js';
import { benchContext, type BenchContext } from '../lib/bench-context.js';
import { currentLoad } from '../lib/machine.js';
import { fmtCount, fmtMs, fmtRate } from '../lib/report.js';
import type { BenchServices } from '../lib/services.js';
import { summarize, type Summary } from '../lib/stats.js';
import { preProduce, speedStream } from './produce.js';
import { speedRun, type SpeedRunResult } from './speed-run.js';

/** Event times of the pre-produced stream span this long before it is produced. */
const SPAN_MS = 30 * 60_000;

export interface Measured {
  label: string;
  partitions: number;
  instances: number;
  dedupe: boolean;
  events: number;
  load: number;
  runs: SpeedRunResult[];
  eventsPerSec: Summary;
}

/** A topic of `partitions` holding `events` records of the speed stream (owned by the returned context). */
export async function filledTopic(
  services: BenchServices,
  partitions: number,
  events: number,
  log: (s: string) => void,
): Promise<{ ctx: BenchContext; produceRate: number }> {
  // The topic is filled before the speed layer starts, with event times over the 30 minutes before
  // now: as live traffic, not as late events. An allowed lateness past that span keeps them out of
  // the per-event late-class record (drift attribution), which live traffic only writes for the
  // few events that really arrive late.
  const ctx = benchContext(services, `speed-p${partitions}`, {
    LAMBDA_TOPIC_PARTITIONS: String(partitions),
    LAMBDA_ALLOWED_LATENESS_MS: String(SPAN_MS + 5 * 60_000),
  });
  const kafka = new Kafka({ clientId: 'lambda-bench', brokers: [...ctx.config.kafka.brokers], logLevel: logLevel.NOTHING });
  // Replication 'auto': three copies and min.insync.replicas 2 on a cluster of three brokers.
  await ensureTopics(kafka, [
    { topic: ctx.config.kafka.topic, partitions },
    { topic: ctx.config.kafka.dlqTopic, partitions },
  ]);
  log(`producing ${fmtCount(events)} events to a ${partitions}-partition topic`);
  const produceRate = await preProduce(kafka, ctx.config.kafka.topic, speedStream(events, { seed: 11, endTs: Date.now(), spanMs: SPAN_MS }));
  return { ctx, produceRate };
}

/** `env`: settings added to the context's for these runs only. */
export async function measure(
  ctx: BenchContext,
  label: string,
  o: { partitions: number; instances: number; dedupe: boolean; events: number; reps: number; env?: Record<string, string> },
  log: (s: string) => void,
): Promise<Measured> {
  const { env: extra, ...shape } = o;
  const runs: SpeedRunResult[] = [];
  const load = currentLoad();
  for (let i = 0; i < o.reps; i++) {
    const r = await speedRun({
      env: { ...ctx.env, ...extra },
      total: o.events,
      instances: o.instances,
      dedupe: o.dedupe,
      logDir: ctx.dataDir,
      timeoutMs: 15 * 60_000,
    });
    log(`${label}: ${fmtRate(r.eventsPerSec)} (started in ${fmtMs(r.startupMs)})`);
    runs.push(r);
  }
  return { label, ...shape, load, runs, eventsPerSec: summarize(runs.map((r) => r.eventsPerSec)) };
}
