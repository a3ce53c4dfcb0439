/**
 * The `spark` engine's sketches (issue 16 on issue 17's engine): per view and distinct measure,
 * the HyperLogLog of every group with registers identical to the reference engine's (and to
 * PFADD's), built as shared/sql/sketch-sql.ts describes and as the duckdb engine does: Spark lists
 * the distinct members once, Node hashes each member's UTF-8 bytes (shared/hll: Redis's
 * MurmurHash64A and register rule; Spark has no such hash) into a packed register, Spark takes the
 * largest register per group and index, and Node writes the Redis bytes of each sorted list.
 * Every measure's members, and every measure's groups, cross in one job each: a Spark job costs
 * a second or more however small.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StoredSketch } from '../../shared/aggregate/stored-group.js';
import { packedRegisterOf, redisBytesOfPacked } from '../../shared/hll/sketch.js';
import { sketchQueries } from '../../shared/sql/sketch-sql.js';
import { SPARK } from '../../shared/sql/spark-dialect.js';
import type { Granularity } from '../../shared/time.js';
import type { ViewSet } from '../../shared/views/definition.js';
import { exactInteger, jsonRows } from './json-lines.js';
import type { SparkSession } from './spark-session.js';

/** Every non-empty sketch of every distinct measure of `views`, from the kept records in `ranked`. */
export async function sparkSketches(spark: SparkSession, views: ViewSet, ranked: string, dir: string): Promise<StoredSketch[]> {
  const queries = sketchQueries(SPARK, views, ranked);
  if (queries.length === 0) return [];
  // 1. each distinct member of each measure hashed once, in Node
  const members = join(dir, 'members.jsonl');
  await spark.send({ op: 'dump', path: members, sql: queries.map((q, i) => `SELECT ${i} AS q, member FROM (${q.membersSql})`).join(' UNION ALL ') });
  const registers = join(dir, 'registers.jsonl');
  const file = createWriteStream(registers);
  try {
    for await (const { q, member } of jsonRows(members)) {
      const line = `${JSON.stringify({ q, member, reg: packedRegisterOf(Buffer.from(member as string, 'utf8')) })}\n`;
      if (!file.write(line)) await once(file, 'drain');
    }
  } finally {
    file.end();
    await once(file, 'close');
  }
  await spark.send({ op: 'json', view: 'sketch_registers', path: pathToFileURL(registers).href, schema: 'q INT, member STRING, reg INT' });
  // 2. per group its registers, sorted by index; the Redis bytes written from them
  const dimsMax = Math.max(...queries.map((q) => q.dims));
  const groups: string[] = [];
  for (const [i, q] of queries.entries()) {
    await spark.send({ op: 'sql', sql: `CREATE OR REPLACE TEMP VIEW sketch_registers_${i} AS SELECT member, reg FROM sketch_registers WHERE q = ${i}` });
    await spark.send({
      op: 'table',
      view: `sketch_staged_${i}`,
      sql: q.stageSql(`sketch_registers_${i}`),
      path: pathToFileURL(join(dir, 'tables', `sketch_staged_${i}`)).href,
    });
    const dims = Array.from({ length: dimsMax }, (_, j) => (j < q.dims ? `d${j}` : `CAST(NULL AS STRING) AS d${j}`));
    for (const groupsSql of q.groupsSql(`sketch_staged_${i}`)) {
      groups.push(`SELECT ${[`${i} AS q`, 'granularity', 'CAST(bucket_start AS STRING) AS bucket_start', ...dims, 'regs'].join(', ')} FROM (${groupsSql})`);
    }
  }
  const path = join(dir, 'sketches.jsonl');
  await spark.send({ op: 'dump', path, sql: groups.join(' UNION ALL ') });
  const out: StoredSketch[] = [];
  for await (const row of jsonRows(path)) {
    const q = queries[row.q as number] as (typeof queries)[number];
    out.push({
      view: q.view,
      granularity: row.granularity as Granularity,
      bucketStart: exactInteger(row.bucket_start, 'bucket start') as number,
      dims: Array.from({ length: q.dims }, (_, j) => (row[`d${j}`] as string | undefined) ?? null),
      measure: q.measure,
      sketch: redisBytesOfPacked(row.regs as number[]),
    });
  }
  return out;
}
