/**
 * One batch run in its own process, so its peak memory (main thread, map workers and SQLite, all
 * in one RSS) is measured alone: `node --import tsx bench/batch/run-child.ts` with the run's
 * environment in BENCH_ENV (JSON). Prints one JSON line: the run record, wall time, CPU time, peak RSS,
 * the engine's phases and the run file's size.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalMasterDataset } from '../../adapters/master/index.js';
import { createBatchEngine } from '../../cli/batch-engines.js';
import { runWiredBatch } from '../../cli/batch-wiring.js';
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
const engine = await createBatchEngine(config);
const record = await runWiredBatch({ config, views: defaultViewSet(), master, log: silentLogger(), engine });
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
rss.stop();
// CPU time of every thread of the process: less sensitive than wall time to a busy shared machine.
// Where the engine's time went (the duckdb engine's phases), and the size of the published run file.
const phases = 'lastTimings' in engine ? (engine.lastTimings as Record<string, number>) : null;
const runFileBytes = statSync(join(config.batch.dir, 'runs', `${record.runId}.sqlite`)).size;
process.stdout.write(`${JSON.stringify({ record, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, peakRssBytes: rss.peakBytes(), phases, runFileBytes })}\n`);
