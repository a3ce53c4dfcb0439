/**
 * The differential test of issue 17: the `spark` batch engine (real Apache Spark, local[2]) and
 * the `reference` engine, run by the real batch run over the same master files, publish identical
 * run files: every view table row for row, the invalid counts by reason, the run's counters and
 * every sketch table byte for byte. Apart from the duckdb engine's test
 * (batch-engine-differential.test.ts) because each Spark run starts a JVM (~15 s): each case
 * below is one Spark run holding many cases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { LocalMasterDataset, openMasterDataset } from '../../adapters/master/index.js';
import { arrivalHour, segmentKey } from '../../shared/master/layout.js';
import { SparkBatchEngine } from '../../adapters/spark/spark-engine.js';
import { SPARK_HOME, referenceEngine } from '../../cli/batch-engines.js';
import { runWiredBatch } from '../../cli/batch-wiring.js';
import { silentLogger } from '../../platform/logger.js';
import type { Config } from '../../platform/config.js';
import type { MasterDataset } from '../../shared/ports.js';
import type { ViewSet } from '../../shared/views/definition.js';
import { loadViews } from '../../shared/views/load.js';
import { T0, writeCheckpoints, writeSegments } from '../support/batch-master.js';
import { HOSTILE_VIEWS_JSON, hostileStream } from '../support/hostile-lines.js';
import { testContext, type TestContext } from '../support/context.js';
import { createTestBucket, s3Overrides } from '../support/s3-bucket.js';
import { expectedSketchRows, runFileContent } from '../support/run-file-content.js';

// An S3 master dataset: Spark reads it through s3a with the dataset's own S3 settings, as createBatchEngine does.
const sparkEngine = (config: Config) =>
  new SparkBatchEngine({
    home: SPARK_HOME,
    master: 'local[2]',
    heapMb: 1024,
    threads: 2,
    workDir: join(config.batch.dir, 'spark'),
    ...(config.masterUrl.startsWith('s3://') ? { s3: config.s3 } : {}),
  });

/** Runs the reference engine, then spark, on the same master; returns both results and run files. */
async function bothEngines(config: Config, views: ViewSet, master: MasterDataset) {
  const spark = sparkEngine(config);
  const ref = await runWiredBatch({ config, views, master, log: silentLogger(), engine: referenceEngine(config) });
  const run = await runWiredBatch({ config, views, master, log: silentLogger(), engine: spark });
  expect(ref.engine).toBe('reference');
  expect(run.engine).toBe('spark');
  const a = runFileContent(join(config.batch.dir, 'runs', `${ref.runId}.sqlite`));
  const b = runFileContent(join(config.batch.dir, 'runs', `${run.runId}.sqlite`));
  return { ref, run, a, b, spark };
}

describe('spark engine vs reference engine: identical run files', () => {
  let ctx: TestContext;
  const views = loadViews(HOSTILE_VIEWS_JSON, 'differential views');
  const lines = hostileStream();

  beforeAll(() => {
    ctx = testContext({ LAMBDA_BATCH_WORKERS: '2', LAMBDA_TOPIC_PARTITIONS: '2' });
  });
  afterAll(() => ctx.cleanup());

  it('publishes the same views, counts, invalid reasons and sketches from hostile records and odd files (CRLF, lone CR, BOM, bad UTF-8, control characters, empty lines)', async () => {
    const master = new LocalMasterDataset(fileURLToPath(ctx.config.masterUrl));
    const topic = ctx.config.kafka.topic;
    const ev = (id: string, i: number, extra = '') =>
      `{"id":"${id}","ts":${T0 + i * 61_000},"type":"pageview","user":"u${i % 7}","country":"C${i % 3}","url":"/p/${i % 5}"${extra}}`;
    // 3000 visitors of one URL in one minute: a sketch past Redis's sparse encoding.
    const many = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({ id: `b${i}`, ts: T0 + (i % 60) * 1000, type: 'pageview', url: '/big', user: `visitor-${i}` }),
    );
    await writeSegments(master, [...lines, ...many], { topic, files: 8, partitions: 2 });
    let offset = 1_000_000;
    const raw = (body: Buffer | string) => {
      const key = segmentKey({ arrivalHour: arrivalHour(T0 + 7_200_000), topic, partition: 0, firstOffset: offset });
      offset += 1000;
      const path = master.localPath(key);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, gzipSync(body));
    };
    const lf = (...ls: string[]) => `${ls.join('\n')}\n`;
    // Same ids with differing payloads inside one file: the kept copy is the first in line order.
    raw(`${ev('crlf-1', 1)}\r\n${ev('crlf-1', 2)}\r\n`);
    raw(lf(`${ev('cr-1', 3)}\r${ev('cr-2', 4)}`, ev('cr-3', 5)));
    raw(`\ufeff${lf(ev('bom-1', 6), ev('bom-2', 7))}`); // not_json for JSON.parse; Hadoop's reader would drop the mark
    raw(Buffer.concat([Buffer.from(ev('utf-1', 8).slice(0, -2)), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]));
    raw(Buffer.concat([Buffer.from(ev('utf-2', 8, ',"x":"').slice(0, -1)), Buffer.from([0xed, 0xa0, 0x80, 0xc0, 0xaf]), Buffer.from('"}\n')])); // a surrogate and an overlong form
    raw(lf(ev('ctl-1', 9), `{"id":"ctl-2","ts":${T0},"x":"\u0001"}`, `{"id":"nul-1","ts":${T0},"x":"\u0000"}`, ev('ctl-3', 10)));
    raw(lf(ev('ok-1', 11), '', 'NULL', '', ev('ok-1', 12), ev('ls-1', 13, ',"ref":"a\u2028"'), `{"id":"ls-2","ts":"2024-01-01T00:00:00Z\u2028"}`));
    await writeCheckpoints(master, topic, 2, T0 + 3 * 86_400_000);
    const { ref, run, a, b, spark } = await bothEngines(ctx.config, views, master);
    expect(ref.counts.eventsRead).toBe(lines.length + 3000 + 2 + 3 + 2 + 1 + 1 + 4 + 7);
    expect(run.counts).toEqual(ref.counts);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const key of Object.keys(a)) expect(b[key], `run file table ${key}`).toEqual(a[key]);
    const sketches = expectedSketchRows([...lines, ...many], views);
    expect(b.sketch_api, 'a sketch table no odd line reaches').toEqual(sketches.sketch_api);
    const dense = (b.sketch_pageviews as string[]).filter((r) => ((JSON.parse(r) as unknown[]).at(-1) as { data: number[] }).data[4] === 0);
    expect(dense.length).toBeGreaterThanOrEqual(3); // /big at minute, hour and day
    // Spark read the files itself, but for the one with a byte order mark; its SQL judged most lines.
    expect(spark.lastRead).toEqual({ local: 14, s3a: 0, staged: 1 });
    expect(spark.lastSplit.sql + spark.lastSplit.typescript).toBe(ref.counts.eventsRead);
    expect(spark.lastSplit.sql).toBeGreaterThan(ref.counts.eventsRead * 0.8);
  }, 300_000);

  it('publishes the same from S3: Spark reads the objects through s3a, but for one starting with a byte order mark', async () => {
    const bucket = await createTestBucket();
    const remote = testContext(
      s3Overrides(bucket.url('lake/master'), { LAMBDA_BATCH_WORKERS: '2', LAMBDA_TOPIC_PARTITIONS: '2', LAMBDA_TOPIC: ctx.config.kafka.topic }),
    );
    try {
      const topic = remote.config.kafka.topic;
      const inS3 = openMasterDataset(remote.config, silentLogger());
      await writeSegments(inS3, lines, { topic, files: 8, partitions: 2 });
      // Written as raw objects: CR LF line ends (split by s3a's reader as by the port's), and a byte
      // order mark (which Hadoop's reader would drop: staged through the port).
      const put = async (firstOffset: number, text: string) =>
        bucket.client.send(
          new PutObjectCommand({
            Bucket: bucket.name,
            Key: `lake/master/${segmentKey({ arrivalHour: arrivalHour(T0 + 7_200_000), topic, partition: 0, firstOffset })}`,
            Body: gzipSync(text),
          }),
        );
      const ev = (id: string, i: number) => `{"id":"${id}","ts":${T0 + i * 61_000},"type":"pageview","user":"u${i % 7}","url":"/p/${i % 5}"}`;
      await put(1_000_000, `${ev('s3-crlf-1', 1)}\r\n${ev('s3-crlf-2', 2)}\r\n`);
      await put(1_001_000, `\ufeff${ev('s3-bom-1', 3)}\n${ev('s3-bom-2', 4)}\n`);
      await writeCheckpoints(inS3, topic, 2, T0 + 3 * 86_400_000);
      const { ref, run, a, b, spark } = await bothEngines(remote.config, views, inS3);
      expect(ref.counts.eventsRead).toBe(lines.length + 4);
      expect(ref.counts.invalid.not_json).toBeGreaterThanOrEqual(1); // the line behind the mark
      expect(run.counts).toEqual(ref.counts);
      for (const key of Object.keys(a)) expect(b[key], `run file table ${key}`).toEqual(a[key]);
      expect(spark.lastRead).toEqual({ local: 0, s3a: 9, staged: 1 });
    } finally {
      await bucket.cleanup();
      remote.cleanup();
    }
  }, 300_000);
});
