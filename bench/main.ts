/**
 * `npm run bench [-- --quick] [--only batch|speed|serving]`: measures the running service on real
 * Kafka, Redis and files, beside what a user would pick instead (raw Redis and Kafka ceilings,
 * DuckDB, express and plain http), and writes bench/results.md and bench/results.json. It reports;
 * it never fails on a goal. Kafka and Redis come from KAFKA_BROKERS / REDIS_URL or the project's
 * own local services; every topic, key prefix, consumer group and temp folder it makes is removed.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { parseArgs } from './lib/args.js';
import { currentLoad, machineInfo } from './lib/machine.js';
import { writeResults, type BenchResults, type Goal, type SectionResult, type Table } from './lib/report.js';
import { findClusterServices, findServices, repoRoot } from './lib/services.js';
import { BATCH_FULL, BATCH_QUICK, batchSection } from './batch/section.js';
import { SPEED_FULL, SPEED_QUICK, speedSection } from './speed/section.js';
import { SERVING_FULL, SERVING_QUICK, servingSection } from './serving/section.js';

const started = Date.now();
const log = (s: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);

async function redisVersion(url: string): Promise<string | null> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? null;
  } catch {
    return null;
  } finally {
    redis.disconnect();
  }
}

/** The broker version the project's own services run (services/kafka/pom.xml); unknown for the user's own Kafka. */
function kafkaVersion(source: string): string | null {
  if (source !== 'local') return null;
  return /<kafka\.version>([^<]+)</.exec(readFileSync(`${repoRoot}services/kafka/pom.xml`, 'utf8'))?.[1] ?? null;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const services = findServices(process.env);
  const machine = machineInfo({ redisVersion: await redisVersion(services.redisUrl), kafkaVersion: kafkaVersion(services.source), duckdbVersion: null });
  log(
    `${args.quick ? 'quick' : 'full'} run of ${args.only.join(', ')} on ${machine.cpuModel} (${machine.cores} cores), load ${machine.loadAverageAtStart.join(' / ')}`,
  );
  const tables: Table[] = [];
  const goals: Goal[] = [];
  const data: Record<string, unknown> = {};
  let failed = false;
  const run = async (name: string, fn: () => Promise<SectionResult>) => {
    log(`section ${name}`);
    try {
      const r = await fn();
      tables.push(...r.tables);
      goals.push(...r.goals);
      data[name] = r.data;
    } catch (err) {
      // A broken section is reported in the results (and the exit code), the others still run.
      failed = true;
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      log(`section ${name} failed: ${message}`);
      data[name] = { error: message };
      tables.push({ title: `${name}: FAILED`, columns: ['error'], rows: [[message.split('\n')[0] ?? message]], notes: [] });
    }
  };
  for (const section of args.only) {
    if (section === 'speed') await run('speed', () => speedSection(services, args.quick ? SPEED_QUICK : SPEED_FULL, log, findClusterServices(process.env)));
    if (section === 'batch') {
      await run('batch', async () => {
        const r = await batchSection(services, args.quick ? BATCH_QUICK : BATCH_FULL, log);
        machine.duckdbVersion = r.duckdbVersion;
        return r;
      });
    }
    if (section === 'serving') await run('serving', () => servingSection(services, args.quick ? SERVING_QUICK : SERVING_FULL, log));
  }
  const results: BenchResults = {
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    mode: args.quick ? 'quick' : 'full',
    sections: args.only,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date().toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machine,
    loadAverageAtEnd: currentLoad(),
    goals,
    tables,
    data,
  };
  const out = writeResults(fileURLToPath(new URL('.', import.meta.url)), results);
  log(`wrote ${out.md} and ${out.json}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
