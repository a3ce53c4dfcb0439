/**
 * Where the CPU goes while a section runs: CPU seconds of a process (from /proc/<pid>/stat, user
 * + system, all its threads), of Redis (INFO cpu, the server's own account) and of the local Kafka
 * broker (its pid file under the data folder). A figure that cannot be read (another OS, the
 * user's own Kafka elsewhere) is null, never guessed.
 */
import { readFileSync } from 'node:fs';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../../adapters/redis/scripts.js';
import { repoRoot } from './services.js';

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** User + system CPU seconds of a process and all its threads; null when unreadable. */
export function processCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** Redis's own CPU seconds (user + system of the server process; of every node of a Cluster). */
export async function redisCpuSeconds(redis: RedisClient): Promise<number | null> {
  const infos = redis instanceof Cluster ? await Promise.all(redis.nodes('all').map((n) => n.info('cpu'))) : [await redis.info('cpu')];
  let sum = 0;
  for (const info of infos) {
    const user = /used_cpu_user:([\d.]+)/.exec(info)?.[1];
    const sys = /used_cpu_sys:([\d.]+)/.exec(info)?.[1];
    if (user === undefined || sys === undefined) return null;
    sum += Number(user) + Number(sys);
  }
  return sum;
}

/** A process and all its descendants (a wrapper shell's java child, say), from /proc. */
function withDescendants(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const children = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim();
      if (children) out.push(...children.split(/\s+/).map(Number));
    } catch {
      // gone, or not Linux: what was found stands
    }
  }
  return out;
}

/** CPU seconds of a process tree; null when the root cannot be read. */
export function treeCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined || processCpuSeconds(pid) === null) return null;
  return withDescendants(pid).reduce((sum, p) => sum + (processCpuSeconds(p) ?? 0), 0);
}

/** The project's local Kafka broker (scripts/kafka.sh writes the pid of its wrapper), if it runs here. */
export function localKafkaPid(): number | undefined {
  try {
    const pid = Number(readFileSync(`${repoRoot}data/kafka/kafka.pid`, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The three nodes of the local Kafka cluster (scripts/kafka-cluster.sh writes each JVM's pid). */
export function localKafkaClusterPids(): (number | undefined)[] {
  return [1, 2, 3].map((n) => {
    try {
      const pid = Number(readFileSync(`${repoRoot}data/kafka-cluster/node-${n}/kafka.pid`, 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  });
}

export interface CpuSnapshot {
  node: number | null;
  redis: number | null;
  kafka: number | null;
}

/** `kafkaPids`: the broker processes (default the local single broker); null when one cannot be read. */
export async function cpuSnapshot(
  nodePids: readonly (number | undefined)[],
  redis: RedisClient,
  kafkaPids: readonly (number | undefined)[] = [localKafkaPid()],
): Promise<CpuSnapshot> {
  const nodes = nodePids.map(processCpuSeconds);
  const brokers = kafkaPids.map(treeCpuSeconds);
  const sum = (xs: (number | null)[]) => (xs.some((x) => x === null) ? null : xs.reduce<number>((a, b) => a + (b as number), 0));
  return { node: sum(nodes), redis: await redisCpuSeconds(redis), kafka: sum(brokers) };
}

/** CPU microseconds per event of each process between two snapshots. */
export function cpuPerEvent(before: CpuSnapshot, after: CpuSnapshot, events: number): CpuSnapshot {
  const per = (a: number | null, b: number | null) => (a === null || b === null || events <= 0 ? null : ((b - a) * 1e6) / events);
  return { node: per(before.node, after.node), redis: per(before.redis, after.redis), kafka: per(before.kafka, after.kafka) };
}
