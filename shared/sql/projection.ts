/**
 * The columns a batch job keeps per valid event (issue 15): which top-level fields the views read,
 * and per view whether its filter matched plus what the event gives each dimension and measure.
 * Both the SQL (event-sql.ts) and the engine's TypeScript path for the lines SQL does not judge
 * (filling the same columns from shared/views/project.ts projections) follow this one layout.
 */
import type { ViewSet } from '../views/definition.js';
import { kindOf } from '../aggregate/measure-kinds.js';

export type ColumnType = 'BOOLEAN' | 'VARCHAR' | 'BIGINT';

export type ProjectionColumn =
  | { name: string; type: 'BOOLEAN'; view: number; kind: 'on' }
  | { name: string; type: 'VARCHAR'; view: number; kind: 'dim'; index: number }
  | { name: string; type: ColumnType; view: number; kind: 'measure'; measure: string };

/** `id`, `ts`, then every field a view reads (filter keys, dimensions, measure fields), each once. */
export function readFields(views: ViewSet): string[] {
  const out = new Set<string>(['id', 'ts']);
  for (const v of views.views) {
    for (const k of Object.keys(v.filter)) out.add(k);
    for (const d of v.dimensions) out.add(d);
    for (const m of Object.values(v.measures)) if ('field' in m) out.add(m.field);
  }
  return [...out];
}

/**
 * Per view `v<i>_on` (filter matched), `v<i>_d<j>` (dimension j: string or NULL), and one column per
 * measure that reads a field (measure-kinds.ts `reads`): `v<i>_m<k>` (a member string or a scaled
 * integer; NULL when the event does not carry it). A measure reading rows (count) needs none.
 */
export function projectionColumns(views: ViewSet): ProjectionColumn[] {
  const out: ProjectionColumn[] = [];
  views.views.forEach((v, i) => {
    out.push({ name: `v${i}_on`, type: 'BOOLEAN', view: i, kind: 'on' });
    v.dimensions.forEach((_, j) => out.push({ name: `v${i}_d${j}`, type: 'VARCHAR', view: i, kind: 'dim', index: j }));
    Object.entries(v.measures).forEach(([name, m], k) => {
      const reads = kindOf(m).reads;
      if (reads === 'rows') return;
      out.push({ name: `v${i}_m${k}`, type: reads === 'member' ? 'VARCHAR' : 'BIGINT', view: i, kind: 'measure', measure: name });
    });
  });
  return out;
}
