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
const COLUMNS = [
  'instances',
  'replica wait',
  'events',
  'events/s: median (min to max)',
  'per instance',
  'CPU us/event: speed / Redis (6 nodes) / Kafka (3)',
  'Redis calls per 1000 events (of them WAIT)',
  'load avg',
];

function cpuCell(m: Measured): string {
  const r = m.runs[m.runs.length - 1]?.cpuUsPerEvent;
  const f = (v: number | null | undefined) => (v == null ? 'n/a' : v.toFixed(1));
  return `${f(r?.node)} / ${f(r?.redis)} / ${f(r?.kafka)}`;
}

function callsCell(m: Measured): string {
  const c = m.runs[m.runs.length - 1]?.callsPer1000;
  return c == null ? 'n/a' : `${c.total.toFixed(1)} (${c.wait.toFixed(1)})`;
}

export async function clusterScale(
  cluster: ClusterServices,
  plan: { scaleEvents: number; scaleReps: number },
  log: (s: string) => void,
): Promise<{ table: Table; data: unknown }> {
  if ('skipped' in cluster) {
    log(`speed on the cluster not measured: ${cluster.skipped}`);
    return {
      table: { title: TITLE, columns: COLUMNS, rows: [[`not measured: ${cluster.skipped}`, '', '', '', '', '', '', '']], notes: [] },
      data: { skipped: cluster.skipped },
    };
  }
  const runs: { m: Measured; wait: boolean }[] = [];
  const t = await filledTopic(cluster, 4, plan.scaleEvents, log);
  try {
    for (const [instances, wait] of [
      [1, true],
      [2, true],
      [1, false],
    ] as const) {
      const label = `cluster, ${instances} instance(s), replica wait ${wait ? 'on' : 'off'}`;
      const env: Record<string, string> = wait ? {} : { LAMBDA_SPEED_REPLICA_WAIT_MS: '0' };
      runs.push({ wait, m: await measure(t.ctx, label, { partitions: 4, instances, dedupe: true, events: plan.scaleEvents, reps: plan.scaleReps, env }, log) });
    }
  } finally {
    await t.ctx.cleanup();
  }
  const [on1, on2, off1] = [runs[0]!.m, runs[1]!.m, runs[2]!.m];
  const one = on1.eventsPerSec.median;
  const two = on2.eventsPerSec.median;
  const off = off1.eventsPerSec.median;
  const cpuOf = (m: Measured) => m.runs[m.runs.length - 1]?.cpuUsPerEvent;
  const callsOf = (m: Measured) => m.runs[m.runs.length - 1]?.callsPer1000;
  const c1 = cpuOf(on1);
  const c2 = cpuOf(on2);
  const sum = c1 && c1.node !== null && c1.redis !== null && c1.kafka !== null ? c1.node + c1.redis + c1.kafka : null;
  const cores = cpus().length;
  const budget = (cores * 1e6) / one;
  const waitCost = 1 - one / off;
  const callsOn = callsOf(on1);
  const callsOff = callsOf(off1);
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
        `Two instances gave ${(two / one).toFixed(2)}x the rate of one (${fmtRate(two / 2)} per instance against ${fmtRate(one)} alone). On one ${cores}-core machine a second instance adds no core: the speed processes, three Kafka JVMs and six Redis nodes (every write applied on a master and on its replica, the AOF written on both) share the same ${cores}, so it takes CPU from the others${
          c1?.node != null && c2?.node != null
            ? `, and two processes spend more per event themselves (${c2.node.toFixed(1)} us against ${c1.node.toFixed(1)} us: smaller fetches each, each process's fixed work)`
            : ''
        }.${sum === null ? '' : ` With one instance the events cost ${sum.toFixed(1)} us of CPU each over all those processes, ${((sum / budget) * 100).toFixed(0)}% of the ${cores} cores at that rate${sum / budget < 0.8 ? `; the rest went to other work on this shared machine (load average ${on1.load})` : ': the cores were all but full'}.`} The scaling per instance shows only with a core per process.`,
        `The replica wait (WAIT 1 on each other master a batch's claims and HyperLogLog adds went to, before they count: a failover loses none of them) adds ${
          callsOn && callsOff
            ? `${(callsOn.total - callsOff.total).toFixed(1)} Redis calls per 1000 events (${callsOn.total.toFixed(1)} against ${callsOff.total.toFixed(1)})`
            : 'a round trip per such master per applied batch'
        }; ${waitCost > 0.05 ? `it cost ${(waitCost * 100).toFixed(0)}% of the rate here (${fmtRate(off)} without it)` : `the rate difference was within this machine's noise (${fmtRate(one)} with it, ${fmtRate(off)} without)`}.`,
        'Same stream and measurement as the scale table above (the topic filled before the instances start; rate from the first applied batch to the last offset). Redis calls: EVALSHA/EVAL, HMGET, GET and WAIT the masters served in that window (INFO commandstats), per 1000 events applied.',
      ],
    },
    data: runs.map(({ m, wait }) => ({ ...m, replicaWait: wait })),
  };
}
