/**
 * One batch run in its own process, so its peak memory (main thread, map workers and SQLite, all
 * in one RSS) is measured alone: `node --import tsx bench/batch/run-child.ts` with the run's
 * environment in BENCH_ENV (JSON). Prints one JSON line: the run record, wall time, CPU time, peak RSS.
 */
import { fileURLToPath } from 'node:url';
import { LocalMasterDataset } from '../../adapters/master/index.js';
import { runBatch } from '../../batch-layer/run/run-batch.js';
import { loadConfig } from '../../platform/config.js';
import { silentLogger } from '../../platform/logger.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { RssSampler } from '../lib/rss.js';

const env = JSON.parse(process.env.BENCH_ENV ?? '{}') as Record<string, string>;
const config = loadConfig(env, process.cwd());
const master = new LocalMasterDataset(fileURLToPath(config.masterUrl));
const rss = new RssSampler();
const cpuBefore = process.cpuUsage();
const started = performance.now();
const record = await runBatch({ config, views: defaultViewSet(), master, log: silentLogger() });
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
rss.stop();
// CPU time of every thread of the process: less sensitive than wall time to a busy shared machine.
process.stdout.write(`${JSON.stringify({ record, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, peakRssBytes: rss.peakBytes() })}\n`);
