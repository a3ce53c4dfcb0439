/**
 * The lines Spark's SQL does not judge (not plain, or not valid UTF-8: shared/sql/event-sql.ts)
 * are judged by shared/events.ts itself, as in the duckdb engine (docs/design-decisions.md,
 * "Batch engines"): Spark writes them as (seq, base64 of the line's bytes); Node decodes the bytes
 * as the MasterDataset port does (UTF-8, U+FFFD for bad bytes, a byte order mark kept), validates
 * and projects them, and writes the valid ones back as JSON lines in the columns the SQL fills
 * (shared/sql/projection.ts), for Spark to read as one more table.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseProjectedLine } from '../../shared/events.js';
import type { ProjectionColumn } from '../../shared/sql/projection.js';
import type { ViewSet } from '../../shared/views/definition.js';

/** Spark's DDL for the JSON lines `judgeLines` writes (Spark's text type is STRING). */
export function judgedSchema(projection: readonly ProjectionColumn[]): string {
  const type = (t: string) => (t === 'VARCHAR' ? 'STRING' : t);
  return ['seq BIGINT', 'line STRING', 'id STRING', 'ts BIGINT', ...projection.map((c) => `${c.name} ${type(c.type)}`)].join(', ');
}

export interface Judged {
  /** lines judged here */
  lines: number;
  /** valid ones written */
  valid: number;
  invalid: Record<string, number>;
}

/** Reads `from` ({seq, b} per line), writes the valid lines' rows to `to`. */
export async function judgeLines(from: string, to: string, views: ViewSet, projection: readonly ProjectionColumn[], signal: AbortSignal): Promise<Judged> {
  const out = createWriteStream(to);
  const judged: Judged = { lines: 0, valid: 0, invalid: {} };
  try {
    for await (const json of createInterface({ input: createReadStream(from), crlfDelay: Number.POSITIVE_INFINITY })) {
      if (judged.lines % 10_000 === 0) signal.throwIfAborted();
      const { seq, b } = JSON.parse(json) as { seq: number; b: string };
      const line = Buffer.from(b, 'base64').toString('utf8');
      judged.lines++;
      const r = parseProjectedLine(line, views);
      if (!r.ok) {
        judged.invalid[r.reason] = (judged.invalid[r.reason] ?? 0) + 1;
        continue;
      }
      const row: Record<string, unknown> = { seq, line, id: r.event.id, ts: r.event.ts };
      for (const c of projection) {
        const p = r.projections[c.view] ?? null;
        if (c.kind === 'on') row[c.name] = p !== null;
        else row[c.name] = p === null ? null : c.kind === 'dim' ? (p.dims[c.index] ?? null) : (p.measures[c.measure] ?? null);
      }
      if (!out.write(`${JSON.stringify(row)}\n`)) await once(out, 'drain');
      judged.valid++;
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return judged;
}
