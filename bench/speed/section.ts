/**
 * The speed-layer section: sustained throughput with dedupe on and off, the raw ceilings beside
 * it (redis-benchmark, a counting kafkajs consumer), scaling over partitions and instances, and
 * produce-to-visible latency at a fixed rate.
 */
import { benchContext, benchName, deleteKeys } from '../lib/bench-context.js';
import { currentLoad } from '../lib/machine.js';
import { cpus } from 'node:os';
import { fmtCount, fmtMs, fmtRate, fmtSummary, goal, type SectionResult, type Table } from '../lib/report.js';
import type { BenchServices, ClusterServices } from '../lib/services.js';
import { summarize, type Summary } from '../lib/stats.js';
import { kafkaCountCeiling, redisCeilings } from './ceilings.js';
import { clusterScale } from './cluster.js';
import { measureLatency, type LatencyResult } from './latency.js';
import { filledTopic, measure, type Measured } from './measure.js';

const machineCores = () => cpus().length;

export interface SpeedPlan {
  events: number;
  reps: number;
  scaleEvents: number;
  scaleReps: number;
  latencySeconds: number;
  targetRate: number;
  redisRequests: number;
}

export const SPEED_FULL: SpeedPlan = {
  events: 300_000,
  reps: 3,
  scaleEvents: 200_000,
  scaleReps: 2,
  latencySeconds: 30,
  targetRate: 20_000,
  redisRequests: 1_000_000,
};
export const SPEED_QUICK: SpeedPlan = {
  events: 60_000,
  reps: 1,
  scaleEvents: 50_000,
  scaleReps: 1,
  latencySeconds: 6,
  targetRate: 20_000,
  redisRequests: 200_000,
};

/** `cluster`: the three-broker Kafka and the Redis Cluster for the cluster rows, or why they are not measured. */
export async function speedSection(
  services: BenchServices,
  plan: SpeedPlan,
  log: (s: string) => void,
  cluster: ClusterServices = { skipped: 'no cluster given' },
): Promise<SectionResult> {
  const main = await filledTopic(services, 2, plan.events, log);
  const measured: Measured[] = [];
  const scale: Measured[] = [];
  let kafkaCeiling: Summary;
  let redis: Awaited<ReturnType<typeof redisCeilings>>;
  try {
    for (const dedupe of [true, false]) {
      measured.push(
        await measure(main.ctx, `dedupe ${dedupe ? 'on' : 'off'}`, { partitions: 2, instances: 1, dedupe, events: plan.events, reps: plan.reps }, log),
      );
    }
    const counts: number[] = [];
    for (let i = 0; i < plan.reps; i++) counts.push(await kafkaCountCeiling(main.ctx.config.kafka.brokers, main.ctx.config.kafka.topic, plan.events));
    kafkaCeiling = summarize(counts);
    log(`kafka ceiling: ${fmtRate(kafkaCeiling.median)}`);
    const redisPrefix = benchName('rb');
    try {
      redis = await redisCeilings(services.redisUrl, redisPrefix, plan.redisRequests);
    } catch (err) {
      // e.g. no redis-benchmark binary (Debian: redis-tools): the speed numbers stand without it.
      log(`redis ceilings not measured: ${(err as Error).message}`);
      redis = [];
    } finally {
      await deleteKeys(services.redisUrl, redisPrefix);
    }
    log(`redis ceilings: ${redis.map((r) => `${r.command} ${fmtRate(r.opsPerSec)}`).join(', ')}`);
  } finally {
    await main.ctx.cleanup();
  }

  for (const partitions of [1, 4]) {
    const t = await filledTopic(services, partitions, plan.scaleEvents, log);
    try {
      for (const instances of partitions === 1 ? [1] : [1, 2]) {
        scale.push(
          await measure(
            t.ctx,
            `${partitions} partition(s), ${instances} instance(s)`,
            { partitions, instances, dedupe: true, events: plan.scaleEvents, reps: plan.scaleReps },
            log,
          ),
        );
      }
    } finally {
      await t.ctx.cleanup();
    }
  }

  const onCluster = await clusterScale(cluster, plan, log);

  // At the goal's rate (or what this machine can produce), then, when the speed layer cannot
  // sustain that, at half its measured throughput: the pipeline's own latency without a backlog.
  const latencies: { load: number; result: LatencyResult }[] = [];
  const sustainable = Math.max(1000, Math.floor(((measured.find((m) => m.dedupe)?.eventsPerSec.median ?? 0) * 0.5) / 1000) * 1000);
  for (const [targetRate, calibrate] of [
    [plan.targetRate, true],
    [sustainable, false],
  ] as const) {
    if (!calibrate && latencies[0] !== undefined && latencies[0].result.targetRate <= sustainable) break;
    const latCtx = benchContext(services, 'latency', { LAMBDA_TOPIC_PARTITIONS: '2' });
    const load = currentLoad();
    try {
      const result = await measureLatency(latCtx, { targetRate, seconds: plan.latencySeconds, calibrate });
      log(`latency at ${fmtRate(result.achievedRate)}: p50 ${fmtMs(result.p50Ms)}, p99 ${fmtMs(result.p99Ms)}`);
      latencies.push({ load, result });
    } finally {
      await latCtx.cleanup();
    }
  }
  const latency = (latencies[0] as { result: LatencyResult }).result;

  const dedupeOn = measured.find((m) => m.dedupe);
  const dedupeOnRun = () => dedupeOn?.runs[dedupeOn.runs.length - 1];
  const throughput: Table = {
    title: 'Speed layer: Kafka -> Redis, default views (2 views x 3 granularities), 1 instance, 2 partitions',
    columns: ['measurement', 'events/s: median (min to max)', 'load avg'],
    rows: [
      ...measured.map((m) => [`speed layer, ${m.label} (${fmtCount(m.events)} events, ~2% duplicates)`, fmtSummary(m.eventsPerSec, fmtRate), String(m.load)]),
      ['ceiling: kafkajs consumer that only counts (same topic)', fmtSummary(kafkaCeiling, fmtRate), ''],
      ...redis.map((r) => [`ceiling: redis-benchmark ${r.command}, 50 clients, pipeline 16 (ops/s)`, fmtRate(r.opsPerSec), '']),
      ['producer (kafkajs, batches of 5000, 4 in flight): filling the topic', fmtRate(main.produceRate), ''],
    ],
    notes: [
      'Sustained rate: from the first applied batch until every offset is applied (read from Redis, as the status page does); process start and group join are excluded and shown in results.json (startupMs).',
      'Per fetched batch of a partition (at most LAMBDA_SPEED_APPLY_MAX_EVENTS = 1000 records per apply) the speed layer makes one pipelined state read, one claim script per event hour (dedupe across partitions: one HSETNX per event), one PFADD script per HLL slot (distinct members, pre-aggregated per group) and one atomic apply script (one HINCRBY per group and measure, expiry and index only for new buckets).',
    ],
  };
  const fmtUs = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(1)} us`);
  const median = (xs: (number | null)[]) => {
    const ys = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
    return ys.length === 0 ? null : (ys[Math.floor((ys.length - 1) / 2)] as number);
  };
  const cpuTable: Table = {
    title: 'Speed layer: where the time goes (CPU microseconds per applied event, median of the runs)',
    columns: ['measurement', 'speed process (Node)', 'Redis', 'Kafka broker', 'sum', 'budget on this machine at that rate'],
    rows: [...measured, ...scale].map((m) => {
      const node = median(m.runs.map((r) => r.cpuUsPerEvent.node));
      const redisUs = median(m.runs.map((r) => r.cpuUsPerEvent.redis));
      const kafkaUs = median(m.runs.map((r) => r.cpuUsPerEvent.kafka));
      const sum = [node, redisUs, kafkaUs].every((x) => x !== null) ? (node as number) + (redisUs as number) + (kafkaUs as number) : null;
      const label = m.label.includes('partition') ? m.label : `${m.label}, ${m.partitions} partition(s), ${m.instances} instance(s)`;
      return [label, fmtUs(node), fmtUs(redisUs), fmtUs(kafkaUs), fmtUs(sum), fmtUs((machineCores() * 1e6) / m.eventsPerSec.median)];
    }),
    notes: [
      "CPU seconds from /proc/<pid>/stat (the speed processes, all threads), Redis INFO cpu and the local broker's /proc entry, over the window from the first applied batch to the last, divided by the events applied in it. The budget is cores x 1 s / rate: when the sum is near it, the machine itself is the limit, whatever the code does.",
      `At the ${fmtRate(100_000)} goal the whole budget of this machine is ${fmtUs((machineCores() * 1e6) / 100_000)} per event for the three processes together.`,
    ],
  };
  const memoryTable: Table = {
    title: 'Speed layer: Redis memory (after the dedupe-on run, MEMORY USAGE of every key)',
    columns: ['what', 'count', 'bytes each'],
    rows: (() => {
      const mem = dedupeOnRun()?.memory;
      if (mem == null) return [];
      return [
        [
          'remembered event id (dedupe claim, window LAMBDA_SPEED_DEDUPE_TTL_S after its event hour)',
          fmtCount(mem.rememberedIds),
          mem.bytesPerId === null ? 'n/a' : mem.bytesPerId.toFixed(0),
        ],
        [
          'speed group (bucket x dims of a view at one granularity: its hash fields and its HLLs)',
          fmtCount(mem.groups),
          mem.bytesPerGroup === null ? 'n/a' : mem.bytesPerGroup.toFixed(0),
        ],
      ];
    })(),
    notes: ['Claims of one event hour are one hash (hashtable encoding once large); groups of one bucket share one hash per partition.'],
  };
  const scaleTable: Table = {
    title: 'Speed layer scale: partitions and instances (dedupe on)',
    columns: ['topic', 'instances', 'events', 'events/s: median (min to max)', 'load avg'],
    rows: [
      ...scale.map((m) => [`${m.partitions} partition(s)`, String(m.instances), fmtCount(m.events), fmtSummary(m.eventsPerSec, fmtRate), String(m.load)]),
      ...measured
        .filter((m) => m.dedupe)
        .map((m) => [`${m.partitions} partition(s)`, String(m.instances), fmtCount(m.events), fmtSummary(m.eventsPerSec, fmtRate), String(m.load)]),
    ],
    notes: ['Two instances are two speed-layer processes in one consumer group, on the same 2 cores (they share the CPU with Kafka, Redis and each other).'],
  };
  const latencyTable: Table = {
    title: 'Speed layer: produce-to-visible latency (marker events polled through the serving API)',
    columns: ['target rate', 'achieved rate', 'markers', 'p50', 'p99', 'max', 'not visible in 30 s', 'load avg'],
    rows: latencies.map(({ load, result: l }, i) => [
      `${fmtRate(l.targetRate)}${i === 0 ? '' : ' (half the measured throughput)'}`,
      fmtRate(l.achievedRate),
      String(l.markers),
      fmtMs(l.p50Ms),
      fmtMs(l.p99Ms),
      fmtMs(l.maxMs),
      String(l.notVisible),
      String(load),
    ]),
    notes: [
      `A flat-out producer (one batch of 2000 in flight, idempotent, acks=all) reached ${fmtRate(latency.maxProduceRate)} just before; the ${fmtRate(plan.targetRate)} target is lowered only when that is under 1.2x the target.`,
      'When the speed layer cannot sustain the first rate, its backlog grows for the whole run and the latency with it; the second row measures at half the sustained throughput, where there is no backlog.',
      'Latency = from just before the marker is produced (idempotent producer, acks=all) to the first series answer (HTTP, 10 ms polls) that shows it.',
    ],
  };
  return {
    tables: [throughput, cpuTable, memoryTable, latencyTable, scaleTable, onCluster.table],
    goals: [
      goal('Speed layer throughput (dedupe on)', 100_000, dedupeOn?.eventsPerSec.median ?? null, fmtRate),
      goal(`Produce-to-visible p99 at ${fmtRate(latency.achievedRate)}`, 1000, latency.p99Ms, fmtMs, true),
    ],
    data: { plan, throughput: measured, kafkaCeiling, redisCeilings: redis, produceRate: main.produceRate, scale, cluster: onCluster.data, latency: latencies },
  };
}
