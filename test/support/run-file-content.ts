/**
 * What the batch engines' differential tests compare (issues 15-17): a run file's content without
 * what differs per run, and the sketches a run file should hold, built independently of every
 * engine.
 */
import Database from 'better-sqlite3';
import type { BatchRunRecord } from '../../shared/batch/run-record.js';
import { HyperLogLog } from '../../shared/hll/hll.js';
import { toRedis } from '../../shared/hll/hll-format.js';
import { validDeduped } from '../../shared/reference-fold.js';
import { floorTo } from '../../shared/time.js';
import type { ViewSet } from '../../shared/views/definition.js';
import { project } from '../../shared/views/project.js';

/** Every table of a run file, rows sorted, and the run record without what differs per run. */
export function runFileContent(path: string): Record<string, unknown> {
  const db = new Database(path, { readonly: true });
  try {
    const out: Record<string, unknown> = {};
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    for (const t of tables) {
      const rows = db.prepare(`SELECT * FROM "${t}"`).raw().all() as unknown[][];
      if (t === 'run') {
        const record = JSON.parse(String(rows[0]?.[5])) as BatchRunRecord;
        out.run = {
          counts: record.counts,
          watermark: record.watermark,
          arrivalComplete: record.arrivalComplete,
          viewsHash: record.viewsHash,
          completeness: record.completeness,
        };
        continue;
      }
      out[t] = rows.map((r) => JSON.stringify(r)).sort();
    }
    out.indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").raw().all();
    return out;
  } finally {
    db.close();
  }
}

/**
 * Every sketch a run file should hold, built independently of both engines: the members of the
 * valid, deduplicated events per group and distinct measure, fed one by one to the plain
 * HyperLogLog (not shared/hll/sketch.ts, which both engines use), as the JSON row of the sketch
 * table: [measure, granularity, bucket_start, ...dims, hll].
 */
export function expectedSketchRows(lines: readonly string[], views: ViewSet): Record<string, string[]> {
  const sets = new Map<string, { table: string; head: unknown[]; members: Set<string> }>();
  for (const event of validDeduped(lines, views)) {
    for (const view of views.views) {
      const p = project(view, event);
      if (p === null) continue;
      for (const [measure, def] of Object.entries(view.measures)) {
        const member = p.measures[measure];
        if (def.type !== 'distinct' || typeof member !== 'string') continue;
        for (const g of view.granularities) {
          const head = [measure, g, floorTo(event.ts, g), ...p.dims];
          const key = JSON.stringify([view.name, head]);
          let entry = sets.get(key);
          if (entry === undefined) sets.set(key, (entry = { table: `sketch_${view.name}`, head, members: new Set() }));
          entry.members.add(member);
        }
      }
    }
  }
  const out: Record<string, string[]> = {};
  for (const { table, head, members } of sets.values()) {
    const h = new HyperLogLog();
    for (const m of members) h.add(m);
    (out[table] ??= []).push(JSON.stringify([...head, Buffer.from(toRedis(h))]));
  }
  for (const rows of Object.values(out)) rows.sort();
  return out;
}
