/**
 * DuckDB computing the same views over the same master files, in its own process (peak RSS of
 * DuckDB alone): `node --import tsx bench/batch/duckdb-child.ts` with BENCH_DUCKDB =
 * {"masterRoot", "dbPath"} (JSON). The views land as tables in a DuckDB file, as the batch
 * layer's land in a SQLite file. Prints one JSON line: timings, peak RSS, rows per table.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { RssSampler } from '../lib/rss.js';
import { dedupeSql, viewSql } from './duckdb-sql.js';

const { masterRoot, dbPath } = JSON.parse(process.env.BENCH_DUCKDB ?? '{}') as { masterRoot: string; dbPath: string };
const views = defaultViewSet();
const rss = new RssSampler();
const cpuBefore = process.cpuUsage();
const started = performance.now();
const instance = await DuckDBInstance.create(dbPath);
const db = await instance.connect();
await db.run(dedupeSql(masterRoot, views));
const tables = views.views.flatMap((v) => viewSql(v));
for (const t of tables) await db.run(t.sql);
await db.run('DROP TABLE events');
await db.run('CHECKPOINT');
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
rss.stop();
const rows: Record<string, number> = {};
for (const t of tables) rows[t.table] = Number((await db.runAndReadAll(`SELECT count(*) FROM "${t.table}"`)).getRows()[0]?.[0] ?? -1);
const version = String((await db.runAndReadAll('SELECT version()')).getRows()[0]?.[0] ?? '?');
db.closeSync();
instance.closeSync();
process.stdout.write(`${JSON.stringify({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000, peakRssBytes: rss.peakBytes(), rows, version })}\n`);
