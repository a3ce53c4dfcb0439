/**
 * The SQL validation (shared/sql/event-sql.ts) line by line against shared/events.ts, in real
 * DuckDB (issue 15): on every line SQL judges ("plain"), the same verdict, the same reason, the
 * same id and event time and the same projection through every view; and the lines it must judge
 * (decimal and number-format edges, ISO timestamps, limits) are plain, so SQL is really tested.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBBlobValue, DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parseProjectedLine } from '../../shared/events.js';
import { DUCKDB } from '../../shared/sql/dialect.js';
import { eventsSql } from '../../shared/sql/event-sql.js';
import { projectionColumns } from '../../shared/sql/projection.js';
import { loadViews } from '../../shared/views/load.js';
import { HOSTILE_VIEWS_JSON, hostileStream } from '../support/hostile-lines.js';

const views = loadViews(HOSTILE_VIEWS_JSON, 'duckdb-validation views');
const projection = projectionColumns(views);

/** What shared/events.ts says of a line, in the engine's columns. */
function expected(line: string): Record<string, unknown> {
  const r = parseProjectedLine(line, views);
  if (!r.ok) return { reason: r.reason };
  const out: Record<string, unknown> = { reason: null, id: r.event.id, ts: r.event.ts };
  for (const c of projection) {
    const p = r.projections[c.view] ?? null;
    if (c.kind === 'on') out[c.name] = p !== null;
    else if (p !== null) out[c.name] = (c.kind === 'dim' ? p.dims[c.index] : p.measures[c.measure]) ?? null;
  }
  return out;
}

/** Text comes back as bytes (the client's decoder would drop a leading U+FEFF; see duckdb-engine.ts). */
function text(v: unknown): unknown {
  return v instanceof DuckDBBlobValue ? Buffer.from(v.bytes).toString('utf8') : v;
}

/** The row's columns, text ones as bytes. */
const SELECT = `SELECT n, plain, reason, encode(id) AS id, ts, ${projection.map((c) => (c.type === 'VARCHAR' ? `encode(${c.name}) AS ${c.name}` : c.name)).join(', ')}`;

/** The same from a row of the SQL (numbers as JS numbers; a view's values only when it matched). */
function actual(row: Record<string, unknown>): Record<string, unknown> {
  if (row.reason !== null) return { reason: row.reason };
  const out: Record<string, unknown> = { reason: null, id: text(row.id), ts: Number(row.ts) };
  for (const c of projection) {
    const on = row[`v${c.view}_on`] === true;
    if (c.kind === 'on') out[c.name] = on;
    else if (on) out[c.name] = typeof row[c.name] === 'bigint' ? Number(row[c.name]) : text(row[c.name]);
  }
  return out;
}

/** A table `name(n, line)`: the lines with their position, as the engine's source relation (plus n to find them again). */
async function tableOfLines(db: DuckDBConnection, name: string, lines: readonly string[]): Promise<void> {
  await db.run(`CREATE TABLE ${name} (n INTEGER, line VARCHAR)`);
  const a = await db.createAppender(name);
  lines.forEach((line, n) => {
    a.appendInteger(n);
    a.appendVarchar(line);
    a.endRow();
  });
  a.closeSync();
}

describe('event validation in SQL (DuckDB) vs shared/events.ts', () => {
  let instance: DuckDBInstance;
  let db: DuckDBConnection;
  const lines = hostileStream().filter((l) => !l.includes('\u0000'));

  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '256MiB' });
    db = await instance.connect();
    await tableOfLines(db, 'lines', lines);
  });
  afterAll(() => {
    db?.closeSync();
    instance?.closeSync();
  });

  it('gives every plain line the verdict, reason and projection TypeScript gives it', async () => {
    const rows = (await db.runAndReadAll(`${SELECT} FROM (${eventsSql(DUCKDB, views, 'lines', ['n'])}) ORDER BY n`)).getRowObjects();
    expect(rows).toHaveLength(lines.length);
    const mismatches: string[] = [];
    let plain = 0;
    for (const row of rows) {
      if (row.plain !== true) continue;
      plain++;
      const line = lines[Number(row.n)] as string;
      const want = expected(line);
      const got = actual(row);
      if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`${line.slice(0, 160)}\n  sql: ${JSON.stringify(got)}\n  ts:  ${JSON.stringify(want)}`);
    }
    expect(mismatches.slice(0, 20).join('\n')).toBe('');
    // SQL judges most lines itself, even in this stream made mostly of hostile lines; TypeScript
    // only takes what SQL cannot read as plain text.
    expect(plain).toBeGreaterThan(lines.length * 0.6);
  });

  it('judges the edge cases in SQL, not by handing them to TypeScript', async () => {
    const edges = [
      '{"id":"e1","ts":"2024-02-29T10:00:00+05:30","type":"purchase","country":"DE","amount":87960930222.07}',
      '{"id":"e2","ts":"2023-02-29T10:00:00Z","type":"purchase","country":"DE","amount":1}',
      '{"id":"e3","ts":1.7e12,"type":"purchase","country":"DE","amount":12.345}',
      '{"id":"e4","ts":-0,"type":"pageview","url":1e-7,"user":1e21}',
      '{"id":"e5","ts":"1969-12-31T23:30:00-01:00","type":"pageview","url":"😀"}',
      '{"id":"e6","ts":1,"type":"purchase","country":"DE","amount":1e200}',
      `{"id":"${'😀'.repeat(129)}","ts":1}`,
      '{"id":"e7","ts":1,"kind":"api","v":2.0,"status":-0,"ok":true,"ms":0.0000015}',
      '{"id":"e8","ts":"9999-12-31T23:59:59.999-00:01"}',
    ];
    await tableOfLines(db, 'edges', edges);
    const rows = (await db.runAndReadAll(`${SELECT} FROM (${eventsSql(DUCKDB, views, 'edges', ['n'])}) ORDER BY n`)).getRowObjects();
    for (const row of rows) {
      const line = edges[Number(row.n)] as string;
      expect(row.plain, line).toBe(true);
      expect(actual(row), line).toEqual(expected(line));
    }
  });
});
