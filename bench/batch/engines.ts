/**
 * The batch engines over the same generated master files, one after the other in this process:
 * `[ENGINES=reference,duckdb,spark] node --import tsx bench/batch/engines.ts [events] [files]` (defaults 300000, 24;
 * ENGINES defaults to reference,duckdb: spark needs `bash scripts/spark.sh` first and starts a JVM per run). Prints one
 * JSON line per engine: wall time of the run and of its map+merge (the engine), events/s, the counts (which must be equal). A
 * quick check by hand; `npm run bench` compares the three in engines-section.ts. The clickstream has
 * no escapes, so the SQL engines judge every line in SQL here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalMasterDataset } from '../../adapters/master/index.js';
import { createBatchEngine } from '../../cli/batch-engines.js';
import { runWiredBatch } from '../../cli/batch-wiring.js';
import { loadConfig } from '../../platform/config.js';
import { silentLogger } from '../../platform/logger.js';
import { clickstream } from '../../shared/generator/clickstream.js';
import { defaultViewSet } from '../../shared/views/default-views.js';

const events = Number(process.argv[2] ?? 300_000);
const files = Number(process.argv[3] ?? 24);
const dir = mkdtempSync(join(tmpdir(), 'lambda-engines-'));
const T0 = Date.UTC(2024, 4, 1);
try {
  const master = new LocalMasterDataset(join(dir, 'master'));
  const lines: string[] = [];
  for (const r of clickstream({ seed: 3, startTs: T0, rate: 200, duplicateFraction: 0.02, invalidFraction: 0.01, lateFraction: 0.03 })) {
    lines.push(r.value);
    if (lines.length >= events) break;
  }
  const per = Math.ceil(lines.length / files);
  for (let i = 0; i < files; i++) {
    await master.writeSegment({ topic: 'events', partition: 0, firstOffset: i * per, arrivalTs: T0 + i * 60_000, lines: lines.slice(i * per, (i + 1) * per) });
  }
  await master.writeCheckpoint({ topic: 'events', partition: 0, lastOffset: lines.length, completeThrough: T0 + 86_400_000, updatedAt: T0 + 86_400_000 });
  const engines = (process.env.ENGINES ?? 'reference,duckdb').split(',') as ('reference' | 'duckdb' | 'spark')[];
  for (const engine of engines) {
    const config = loadConfig(
      {
        LAMBDA_DATA_DIR: join(dir, engine),
        LAMBDA_MASTER_URL: `file://${join(dir, 'master')}`,
        LAMBDA_TOPIC_PARTITIONS: '1',
        LAMBDA_BATCH_ENGINE: engine,
        LAMBDA_SPARK_MASTER: process.env.LAMBDA_SPARK_MASTER ?? 'local[2]',
        LAMBDA_BATCH_WORKERS: process.env.LAMBDA_BATCH_WORKERS ?? '2',
        LAMBDA_BATCH_MEMORY_MB: process.env.LAMBDA_BATCH_MEMORY_MB ?? '1024',
        LAMBDA_BATCH_DEDUPE_MAX_IDS: '100000000',
      },
      process.cwd(),
    );
    const started = performance.now();
    const engineImpl = engine !== 'reference' ? await createBatchEngine(config) : undefined;
    const record = await runWiredBatch({ config, views: defaultViewSet(), master, log: silentLogger(), ...(engineImpl ? { engine: engineImpl } : {}) });
    const phases = engineImpl && 'lastTimings' in engineImpl ? engineImpl.lastTimings : undefined;
    const ms = performance.now() - started;
    const engineMs = record.timings.mapMs + record.timings.mergeMs;
    const perSecond = Math.round((lines.length / engineMs) * 1000);
    process.stdout.write(
      `${JSON.stringify({ engine, events: lines.length, files, ms: Math.round(ms), engineMs, perSecond, phases, timings: record.timings, counts: record.counts })}\n`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
