/**
 * The speed layer on the cluster topology (issue 18): three Kafka brokers (replication 3,
 * min.insync.replicas 2, acks=all with idempotence) and a Redis Cluster of three masters with one
 * replica each (AOF), with 1 and 2 speed instances over 4 partitions, and 1 instance again with the
 * replica wait off (LAMBDA_SPEED_REPLICA_WAIT_MS=0) to show what confirming the writes outside a
 * partition's slot on a replica costs. Skipped, with the reason, when the clusters are not given.
 */
import { cpus } from 'node:os';
import { fmtCount, fmtRate, fmtSummary, type Table } from '../lib/report.js';
import type { ClusterServices } from '../lib/services.js';
import { filledTopic, measure, type Measured } from './measure.js';

const TITLE = 'Speed layer on the cluster: 3 Kafka brokers (RF 3, min ISR 2) + Redis Cluster (3 masters + 3 replicas, AOF), 4 partitions, dedupe on';
const COLUMNS = ['instances', 'replica wait', 'events', 'events/s: median (min to max)', 'per instance', 'CPU us/event: speed / Redis (6 nodes) / Kafka (3)', 'Redis calls per 1000 events (of them WAIT)', 'load avg'];

function cpuCell(m: Measured): string {
  const r = m.runs[m.runs.length - 1]?.cpuUsPerEvent;
  const f = (v: number | null | undefined) => (v == null ? 'n/a' : v.toFixed(1));
  return `${f(r?.node)} / ${f(r?.redis)} / ${f(r?.kafka)}`;
}

function callsCell(m: Measured): string {
  const c = m.runs[m.runs.length - 1]?.callsPer1000;
  return c == null ? 'n/a' : `${c.total.toFixed(1)} (${c.wait.toFixed(1)})`;
}

export async function clusterScale(cluster: ClusterServices, plan: { scaleEvents: number; scaleReps: number }, log: (s: string) => void): Promise<{ table: Table; data: unknown }> {
  if ('skipped' in cluster) {
    log(`speed on the cluster not measured: ${cluster.skipped}`);
    return { table: { title: TITLE, columns: COLUMNS, rows: [[`not measured: ${cluster.skipped}`, '', '', '', '', '', '', '']], notes: [] }, data: { skipped: cluster.skipped } };
  }
  const runs: { m: Measured; wait: boolean }[] = [];
  const t = await filledTopic(cluster, 4, plan.scaleEvents, log);
  try {
    for (const [instances, wait] of [[1, true], [2, true], [1, false]] as const) {
      const label = `cluster, ${instances} instance(s), replica wait ${wait ? 'on' : 'off'}`;
      const env: Record<string, string> = wait ? {} : { LAMBDA_SPEED_REPLICA_WAIT_MS: '0' };
      runs.push({ wait, m: await measure(t.ctx, label, { partitions: 4, instances, dedupe: true, events: plan.scaleEvents, reps: plan.scaleReps, env }, log) });
    }
  } finally {
    await t.ctx.cleanup();
  }
  const one = runs[0]!.m.eventsPerSec.median;
  const two = runs[1]!.m.eventsPerSec.median;
  const off = runs[2]!.m.eventsPerSec.median;
  const perEvent = (m: Measured) => m.runs[m.runs.length - 1]?.cpuUsPerEvent;
  const cpuOne = perEvent(runs[0]!.m);
  const sum = cpuOne && cpuOne.node !== null && cpuOne.redis !== null && cpuOne.kafka !== null ? cpuOne.node + cpuOne.redis + cpuOne.kafka : null;
  const cores = cpus().length;
  return {
    table: {
      title: TITLE,
      columns: COLUMNS,
      rows: runs.map(({ m, wait }) => [
        String(m.instances),
        wait ? 'on (default)' : 'off',
        fmtCount(m.events),
        fmtSummary(m.eventsPerSec, fmtRate),
        fmtRate(m.eventsPerSec.median / m.instances),
        cpuCell(m),
        callsCell(m),
        String(m.load),
      ]),
      notes: [
        `Two instances gave ${(two / one).toFixed(2)}x the rate of one (${fmtRate(two / 2)} per instance against ${fmtRate(one)} alone). On this ${cores}-core machine the limit is the CPU, not the code: the speed processes, three Kafka JVMs and six Redis nodes (each write is applied twice, on a master and its replica, and the AOF is written on both) share ${cores} cores, ${sum === null ? 'so a second instance mostly takes CPU from the others' : `and one instance's events already cost ${sum.toFixed(1)} us of CPU each over all processes, against a budget of ${((cores * 1e6) / one).toFixed(1)} us per event at that rate`}. The scaling per instance shows on machines with a core per process.`,
        `The replica wait (WAIT 1 on each other master a batch's claims and HyperLogLog adds went to, before its apply: a failover loses none of them) cost ${((1 - one / off) * 100).toFixed(0)}% here (${fmtRate(off)} without it), one more round trip per such master per applied batch of up to LAMBDA_SPEED_APPLY_MAX_EVENTS records.`,
        'Same stream and measurement as the scale table above (the topic filled before the instances start; rate from the first applied batch to the last offset). Redis calls: EVALSHA/EVAL, HMGET, GET and WAIT the masters served in that window (INFO commandstats), per 1000 events applied.',
      ],
    },
    data: runs.map(({ m, wait }) => ({ ...m, replicaWait: wait })),
  };
}
