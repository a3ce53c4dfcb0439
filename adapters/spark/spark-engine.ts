/**
 * The `spark` batch engine (issue 17; docs/design-decisions.md, "Batch engines"): the views and
 * the event rules compiled to Spark SQL by the same generator as the duckdb engine's (shared/sql/,
 * dialect spark-dialect.ts) and run by Apache Spark (LAMBDA_SPARK_MASTER), giving the same groups,
 * sketches and counts as the reference engine.
 *
 *   1. Spark reads every line of the snapshot's files itself (local files, and S3 objects through
 *      s3a; files with a byte order mark are first staged to local files through the
 *      MasterDataset port: read-plan.ts), numbered (file, line), and
 *      validates the plain ones in SQL (shared/sql/event-sql.ts); lines that are not valid UTF-8
 *      are never plain
 *   2. the other lines come back to Node and are judged by shared/events.ts (ts-judge.ts), and the
 *      valid ones go back to Spark as one more table
 *   3. exact dedupe by id and every view at every granularity (shared/sql/job-sql.ts), and the
 *      sketches (spark-sketches.ts); results come back as JSON lines files in the work dir
 *
 * Work dir `<batch dir>/spark/`: the driver's scratch and the files exchanged, emptied before and
 * after each run (only the lease holder runs).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StoredGroup } from '../../shared/aggregate/stored-group.js';
import type { BatchEngine, BatchEngineInput, BatchEngineResult, EngineProgress } from '../../shared/batch-engine.js';
import { LambdaError } from '../../shared/errors.js';
import { eventsSql } from '../../shared/sql/event-sql.js';
import { dedupeCountsSql, rankedSql, viewQueries } from '../../shared/sql/job-sql.js';
import { projectionColumns } from '../../shared/sql/projection.js';
import { SPARK } from '../../shared/sql/spark-dialect.js';
import type { Granularity } from '../../shared/time.js';
import { allRows, exactInteger, jsonRows } from './json-lines.js';
import { planReads } from './read-plan.js';
import { s3aSettings, type S3Settings } from './s3a.js';
import { SparkSession, type SparkApp } from './spark-session.js';
import { sparkSketches } from './spark-sketches.js';
import { judgedSchema, judgeLines } from './ts-judge.js';

export interface SparkEngineOptions {
  /** services/spark (the driver and its jars) */
  home: string;
  /** LAMBDA_SPARK_MASTER */
  master: string;
  /** the driver JVM's heap in MiB (LAMBDA_BATCH_MEMORY_MB, at least 1024: Spark's own floor is ~450) */
  heapMb: number;
  /** cores the job may use (LAMBDA_BATCH_WORKERS resolved): sets the shuffle partitions */
  threads: number;
  /** emptied before and after a run */
  workDir: string;
  /** how to reach an S3 master dataset (LAMBDA_S3_*): Spark then reads its objects through s3a; absent = staged through the port */
  s3?: S3Settings;
}

/** seq = file position × 2^33 + line number: (file, line) order as one BIGINT, exact in JSON below 2^20 files. */
const LINE_BITS = 8_589_934_592;
const MAX_FILES = 2 ** 20;
/**
 * The steps of the validation query (shared/sql/event-sql.ts Stage, counted from 0) written out as
 * tables: the members' tokens (s3), the numbers split (s5c), the verdict's inputs (s8). Nested
 * whole, Spark took minutes to plan it; every step apart, a job per step cost more than the plan.
 */
const MATERIALIZED_STEPS = new Set([2, 7, 10]);

export class SparkBatchEngine implements BatchEngine {
  readonly name = 'spark';
  /** lines the last run judged in SQL, and in TypeScript (ts-judge.ts) */
  lastSplit = { sql: 0, typescript: 0 };
  /** files the last run's Spark read itself (from local disk, from S3 through s3a), and those staged through the port first */
  lastRead = { local: 0, s3a: 0, staged: 0 };
  /** the master and application id of the last run's driver (a spark:// run: an `app-...` id its master lists) */
  lastApp: SparkApp | null = null;
  private stagedPositions: number[] = [];
  /** the driver's pid while a run is on (tests kill it), null otherwise */
  driverPid: number | null = null;

  constructor(private readonly opts: SparkEngineOptions) {}

  async compute(input: BatchEngineInput): Promise<BatchEngineResult> {
    const { opts } = this;
    if (input.files.length >= MAX_FILES) throw new LambdaError('INTERNAL', `the spark engine reads at most ${MAX_FILES - 1} files per run`);
    rmSync(opts.workDir, { recursive: true, force: true });
    mkdirSync(join(opts.workDir, 'scratch'), { recursive: true });
    let session: SparkSession | null = null;
    this.lastRead = { local: 0, s3a: 0, staged: 0 };
    this.lastApp = null;
    try {
      const plan = await planReads(input.master, input.files, opts.s3 !== undefined, join(opts.workDir, 'staged'), input.signal);
      this.lastRead = plan.counts;
      this.stagedPositions = plan.stagedPositions;
      session = await SparkSession.start(
        {
          home: opts.home,
          master: opts.master,
          heapMb: opts.heapMb,
          shufflePartitions: Math.max(2, opts.threads * 2),
          scratchDir: join(opts.workDir, 'scratch'),
          ...(plan.counts.s3a > 0 && opts.s3 !== undefined ? { hadoop: s3aSettings(opts.s3) } : {}),
        },
        input.signal,
      );
      this.driverPid = session.pid;
      this.lastApp = session.app;
      return await this.run(session, plan.paths, input);
    } catch (err) {
      input.signal.throwIfAborted(); // a killed driver reports the abort, not its missing reply
      throw err;
    } finally {
      this.driverPid = null;
      await session?.close();
      rmSync(opts.workDir, { recursive: true, force: true });
    }
  }

  private async run(spark: SparkSession, paths: readonly string[], input: BatchEngineInput): Promise<BatchEngineResult> {
    const { views, signal } = input;
    const dir = this.opts.workDir;
    const projection = projectionColumns(views);
    // 1. every line, validated; a line that is not UTF-8 enters as '' (never plain) with its bytes aside
    await spark.send({ op: 'lines', view: 'raw', paths });
    await spark.send({
      op: 'sql',
      sql:
        `CREATE OR REPLACE TEMP VIEW src AS SELECT f * ${LINE_BITS} + n AS seq, ` +
        `CASE WHEN is_valid_utf8(line) THEN line ELSE '' END AS line, CASE WHEN NOT is_valid_utf8(line) THEN CAST(line AS BINARY) END AS bytes FROM raw` +
        (this.stagedPositions.length > 0 ? ` WHERE NOT (n = 0 AND f IN (${this.stagedPositions.join(', ')}))` : ''),
    });
    // Each step of the validation materialized (Parquet in the work dir): planning the nested
    // query whole took Spark minutes (shared/sql/event-sql.ts Stage).
    const steps: { view: string; sql: string }[] = [];
    let step = 0;
    const stage = (select: string) => {
      if (!MATERIALIZED_STEPS.has(step++)) return `(${select})`;
      const view = `ev_step${step}`;
      steps.push({ view, sql: select });
      return view;
    };
    steps.push({ view: 'ev', sql: eventsSql(SPARK, views, 'src', ['seq', 'bytes'], stage) });
    for (const step of steps) await this.table(spark, step.view, step.sql);
    const [read] = await this.rows(spark, 'read', 'SELECT CAST(count(*) AS STRING) AS n, CAST(count_if(plain) AS STRING) AS plain FROM ev');
    const progress: EngineProgress = {
      filesDone: input.files.length,
      bytesDone: input.files.reduce((sum, f) => sum + f.sizeBytes, 0),
      recordsRead: exactInteger(read?.n, 'lines') ?? 0,
    };
    input.onProgress(progress);

    // 2. the lines SQL does not judge, by shared/events.ts
    const notPlain = join(dir, 'not-plain.jsonl');
    await spark.send({ op: 'dump', path: notPlain, sql: 'SELECT seq, base64(coalesce(bytes, CAST(line AS BINARY))) AS b FROM ev WHERE NOT plain' });
    const judged = await judgeLines(notPlain, join(dir, 'judged.jsonl'), views, projection, signal);
    await spark.send({ op: 'json', view: 'ts_valid', path: pathToFileURL(join(dir, 'judged.jsonl')).href, schema: judgedSchema(projection) });
    const sqlJudged = exactInteger(read?.plain, 'plain lines') ?? 0;
    this.lastSplit = { sql: sqlJudged, typescript: judged.lines };
    if (sqlJudged + judged.lines !== progress.recordsRead) {
      throw new LambdaError('INTERNAL', `spark engine: ${sqlJudged} plain + ${judged.lines} other lines is not the ${progress.recordsRead} read`);
    }
    const invalid: Record<string, number> = { ...judged.invalid };
    for (const r of await this.rows(
      spark,
      'reasons',
      'SELECT reason, CAST(count(*) AS STRING) AS n FROM ev WHERE plain AND reason IS NOT NULL GROUP BY reason',
    )) {
      invalid[r.reason as string] = (invalid[r.reason as string] ?? 0) + (exactInteger(r.n, 'count') ?? 0);
    }

    // 3. dedupe, views, sketches
    signal.throwIfAborted();
    input.onMerge();
    const cols = ['id', 'ts', ...projection.map((c) => c.name)].join(', ');
    const valid = `(SELECT seq, lh, ${cols} FROM ev WHERE plain AND reason IS NULL UNION ALL SELECT seq, ${SPARK.hash64('line')} AS lh, ${cols} FROM ts_valid)`;
    await this.table(spark, 'ranked', rankedSql(views, valid));
    const [counts] = await this.rows(
      spark,
      'counts',
      `SELECT CAST(kept AS STRING) AS kept, CAST(duplicates AS STRING) AS duplicates, CAST(differing AS STRING) AS differing FROM (${dedupeCountsSql('ranked')})`,
    );
    // Every view's groups in one job: the queries padded to the same columns, tagged by view.
    const queries = viewQueries(SPARK, views, 'ranked');
    const dimsMax = Math.max(0, ...queries.map((q) => q.dims));
    const measuresMax = Math.max(0, ...queries.map((q) => q.measures.length));
    const tagged = queries.map((q, i) => {
      const dims = Array.from({ length: dimsMax }, (_, j) => (j < q.dims ? `d${j}` : `CAST(NULL AS STRING) AS d${j}`));
      const measures = Array.from({ length: measuresMax }, (_, k) =>
        k < q.measures.length ? `CAST(m${k} AS STRING) AS m${k}` : `CAST(NULL AS STRING) AS m${k}`,
      );
      return `SELECT ${[`${i} AS v`, 'granularity', 'CAST(bucket_start AS STRING) AS bucket_start', ...dims, ...measures].join(', ')} FROM (${q.sql})`;
    });
    const groups: StoredGroup[] = [];
    const viewsPath = join(dir, 'views.jsonl');
    if (tagged.length > 0) await spark.send({ op: 'dump', path: viewsPath, sql: tagged.join(' UNION ALL ') });
    for await (const row of tagged.length > 0 ? jsonRows(viewsPath) : []) {
      const q = queries[row.v as number] as (typeof queries)[number];
      const values: Record<string, number | null> = {};
      q.measures.forEach((m, k) => (values[m] = exactInteger(row[`m${k}`], `measure "${m}" of view "${q.view}"`)));
      groups.push({
        view: q.view,
        granularity: row.granularity as Granularity,
        bucketStart: exactInteger(row.bucket_start, 'bucket start') as number,
        dims: Array.from({ length: q.dims }, (_, j) => (row[`d${j}`] as string | undefined) ?? null),
        values,
      });
    }
    const sketches = input.sketches === true ? await sparkSketches(spark, views, 'ranked', dir) : undefined;
    return {
      groups,
      ...(sketches !== undefined ? { sketches } : {}),
      counts: {
        eventsRead: progress.recordsRead,
        invalid,
        duplicates: exactInteger(counts?.duplicates, 'duplicates') ?? 0,
        duplicatesDifferingPayload: exactInteger(counts?.differing, 'differing duplicates') ?? 0,
        eventsKept: exactInteger(counts?.kept, 'kept events') ?? 0,
      },
      workers: this.opts.threads,
    };
  }

  /** Materializes a query as Parquet in the work dir, and names it. */
  private async table(spark: SparkSession, view: string, sql: string): Promise<void> {
    await spark.send({ op: 'table', view, sql, path: pathToFileURL(join(this.opts.workDir, 'tables', view)).href });
  }

  /** A small query's rows, through a file like every result. */
  private async rows(spark: SparkSession, name: string, sql: string): Promise<Record<string, unknown>[]> {
    const path = join(this.opts.workDir, `${name}.jsonl`);
    await spark.send({ op: 'dump', path, sql });
    return allRows(path);
  }
}
