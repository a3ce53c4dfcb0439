/**
 * Faults on the local cluster (issue 18): SIGKILL one Kafka node or one Redis node by the pid its
 * script wrote, bring it back with the scripts' idempotent `up`, and observe what the cluster says
 * about it (partition leaders and in-sync replicas; Redis ROLE). The processes are this checkout's
 * own (scripts/kafka-cluster.sh, scripts/redis-cluster.sh under LAMBDA_DATA_DIR or data/): on
 * someone else's cluster there is nothing to kill, and `faultSkipReason` says so.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { Redis } from 'ioredis';
import { clusterSkipReason } from './cluster.js';
import { waitUntil } from './wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export function kafkaNodePidFile(nodeId: number): string {
  return join(inject('services').scriptsDataDir, 'kafka-cluster', `node-${nodeId}`, 'kafka.pid');
}

export function redisNodePidFile(port: number): string {
  return join(inject('services').scriptsDataDir, 'redis-cluster', String(port), 'redis.pid');
}

export function faultSkipReason(): string | null {
  const firstRedisPort = Number(/:(\d+)/.exec(inject('services').redisClusterUrl.replace('redis-cluster://', ''))?.[1]);
  const missing = [kafkaNodePidFile(1), redisNodePidFile(firstRedisPort)].filter((f) => !existsSync(f));
  if (missing.length > 0) return `the cluster is not this checkout's own (no ${missing.join(', ')}): the fault tests kill its processes`;
  return clusterSkipReason();
}

/** The pid a script wrote to `file`. */
export function readPid(file: string): number {
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid in ${file}`);
  return pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs the process whose pid `file` holds and waits until it is gone; returns the pid. */
export async function sigkill(file: string): Promise<number> {
  const pid = readPid(file);
  if (!alive(pid)) throw new Error(`pid ${pid} (${file}) is not running`);
  process.kill(pid, 'SIGKILL');
  await waitUntil(
    () => alive(pid),
    (a) => !a,
    { what: `pid ${pid} to die after SIGKILL`, timeoutMs: 10_000, intervalMs: 20 },
  );
  return pid;
}

/** `scripts/services.sh up <name>`, without blocking the event loop (in-process consumers keep heartbeating). */
export function servicesUp(name: 'kafka-cluster' | 'redis-cluster'): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(root, 'scripts/services.sh'), 'up', name], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`services.sh up ${name} exited ${code}:\n${err}`))));
  });
}

export type RedisRole = { role: 'master' } | { role: 'slave'; masterPort: number } | { role: 'down' };

/** What the node on `port` says it is (ROLE), or down when it does not answer. */
export async function redisRole(port: number): Promise<RedisRole> {
  const node = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  node.on('error', () => undefined);
  try {
    await node.connect();
    const reply = (await node.call('ROLE')) as [string, ...unknown[]];
    if (reply[0] === 'master') return { role: 'master' };
    return { role: 'slave', masterPort: Number(reply[2]) };
  } catch {
    return { role: 'down' };
  } finally {
    node.disconnect();
  }
}

/** The ports of the local Redis Cluster's nodes (from its seed URL). */
export function redisClusterPorts(): number[] {
  return inject('services')
    .redisClusterUrl.replace('redis-cluster://', '')
    .split(',')
    .map((seed) => Number(seed.split(':')[1]));
}

/**
 * `CONFIG SET cluster-node-timeout` on every node that answers (a killed or stopped one is
 * skipped): a fault test widens it while it holds a replica stopped, and puts back the script's
 * 3000 ms (scripts/redis-cluster.sh) at once after, so failures are detected at the usual pace.
 */
export async function setRedisNodeTimeout(ms: number, ports: readonly number[] = redisClusterPorts()): Promise<number[]> {
  const set: number[] = [];
  await Promise.all(
    ports.map(async (port) => {
      const node = new Redis({
        host: '127.0.0.1',
        port,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        connectTimeout: 1000,
        commandTimeout: 1000,
      });
      node.on('error', () => undefined);
      try {
        await node.connect();
        await node.config('SET', 'cluster-node-timeout', String(ms));
        set.push(port);
      } catch {
        // down or stopped: it keeps its own setting (a restarted node reads the script's)
      } finally {
        node.disconnect();
      }
    }),
  );
  return set;
}
