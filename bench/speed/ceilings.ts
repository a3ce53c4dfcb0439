/**
 * The raw ceilings of this machine, measured in the same run as the speed layer: what Redis
 * answers with pipelining for the commands the speed layer's Lua apply issues (HINCRBY, PFADD,
 * and a one-command EVALSHA standing in for the Lua call), and what a kafkajs consumer that only
 * counts reads from the same topic.
 */
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { runJsonChild } from '../lib/child.js';

export interface RedisCeiling {
  command: string;
  opsPerSec: number;
}

const HINCR_SCRIPT = "return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)";

/** redis-benchmark (50 clients, pipeline 16) per command, on keys under `prefix` (deleted by the caller). */
export async function redisCeilings(redisUrl: string, prefix: string, requests: number): Promise<RedisCeiling[]> {
  const url = new URL(redisUrl);
  const host = url.hostname;
  const port = url.port || '6379';
  const redis = new Redis(redisUrl);
  const sha = (await redis.script('LOAD', HINCR_SCRIPT)) as string;
  redis.disconnect();
  const commands: [string, string[]][] = [
    ['HINCRBY', ['HINCRBY', `{${prefix}:p0}:g:__rand_int__`, 'views', '1']],
    ['PFADD', ['PFADD', `{${prefix}:p0}:h:__rand_int__`, 'u__rand_int__']],
    ['EVALSHA (one HINCRBY)', ['EVALSHA', sha, '1', `{${prefix}:p0}:e:__rand_int__`, 'views']],
  ];
  return commands.map(([command, args]) => {
    const r = spawnSync('redis-benchmark', ['-h', host, '-p', port, '-c', '50', '-P', '16', '-n', String(requests), '-r', '100000', '--csv', ...args], {
      encoding: 'utf8',
    });
    // --csv: a header line, then "name","rps",...
    const line = r.stdout.trim().split('\n').pop() ?? '';
    const rps = Number(line.split(',')[1]?.replaceAll('"', ''));
    if (r.status !== 0 || !Number.isFinite(rps)) throw new Error(`redis-benchmark ${command} failed: ${r.stderr || r.stdout}`);
    return { command, opsPerSec: rps };
  });
}

export async function kafkaCountCeiling(brokers: readonly string[], topic: string, total: number): Promise<number> {
  const r = await runJsonChild<{ eventsPerSec: number }>('bench/speed/count-child.ts', { BENCH_COUNT: JSON.stringify({ brokers, topic, total }) });
  return r.eventsPerSec;
}
