/**
 * Both view stores of a deployment, filled from a generated record stream by the reference fold
 * (shared/reference-fold.ts) instead of by the batch and speed layers, and served through the
 * in-memory fakes of the serving ports (serving-fakes.ts). The serving answers (series, totals,
 * drift) can then be compared with the reference fold of the same records in a unit test, with
 * no Kafka, Redis or SQLite: what a correct batch run and a correct speed layer would hold.
 *
 * The two layers are made to disagree where the serving layer must choose between them
 * (docs/design-decisions.md §7): the run read only the records emitted before `batchReadsBefore`
 * (its buckets at or after W are short), and the speed layer, started at `coveredSince`, runs
 * with dedupe off (it counts every duplicate copy again and records it in the row's
 * `duplicates` counter). An answer that takes a bucket from the wrong layer is therefore wrong.
 * Speed distinct values are exact member counts here (the real speed layer's are HyperLogLog
 * estimates); both layers keep sketches, so unions over buckets and groups work as in production.
 */
import type { GeneratedRecord } from '../../shared/generator/clickstream.js';
import type { BucketRow } from '../../shared/ports.js';
import type { QueryContext } from '../../serving-layer/query/context.js';
import { parseEventLine, type LambdaEvent } from '../../shared/events.js';
import { referenceFold, validDeduped } from '../../shared/reference-fold.js';
import { floorTo, type Granularity } from '../../shared/time.js';
import type { ViewSet } from '../../shared/views/definition.js';
import { project } from '../../shared/views/project.js';
import { FakeBatchStore, FakeSpeedStore, fakeSketch, runInfo, type FakeSketch } from './serving-fakes.js';

export interface FoldLayersOptions {
  views: ViewSet;
  /** the stream in emission order, as the generator yields it (no late events: see above) */
  records: readonly GeneratedRecord[];
  /** W of the published run */
  watermark: number;
  /** the run read exactly the records whose event time is before this (emission order = event time) */
  batchReadsBefore: number;
  /** the speed layer holds the records whose event time is at or after this */
  coveredSince: number;
  now: number;
}

/** The event of a record, or null for an invalid one (the fold drops those too). */
export function eventOf(r: GeneratedRecord, views: ViewSet): LambdaEvent | null {
  const res = parseEventLine(r.value, views);
  return res.ok ? res.event : null;
}

/** One row per group of the fold, as a store returns it. */
function rowsOfFold(records: readonly string[], views: ViewSet): BucketRow[] {
  return [...referenceFold(records, views)].map(([key, values]) => {
    const [view, granularity, bucketStart, dims] = JSON.parse(key) as [string, Granularity, number, (string | null)[]];
    return { view, granularity, bucketStart, dims, values };
  });
}

const rowKey = (view: string, g: Granularity, bucketStart: number, dims: readonly (string | null)[]) => JSON.stringify([view, g, bucketStart, dims]);

/** Per stored group and distinct measure, the sketch of its members (first copies; a copy adds no member). */
function sketchesOf(records: readonly string[], views: ViewSet): FakeSketch[] {
  const members = new Map<string, { view: string; g: Granularity; measure: string; bucketStart: number; dims: (string | null)[]; users: Set<string> }>();
  for (const event of validDeduped(records, views)) {
    for (const view of views.views) {
      const p = project(view, event);
      if (p === null) continue;
      for (const [measure, def] of Object.entries(view.measures)) {
        const member = p.measures[measure];
        if (def.type !== 'distinct' || typeof member !== 'string') continue;
        for (const g of view.granularities) {
          const bucketStart = floorTo(event.ts, g);
          const key = `${measure}|${rowKey(view.name, g, bucketStart, p.dims)}`;
          let entry = members.get(key);
          if (!entry) members.set(key, (entry = { view: view.name, g, measure, bucketStart, dims: p.dims, users: new Set() }));
          entry.users.add(member);
        }
      }
    }
  }
  return [...members.values()].map((m) => fakeSketch(m.view, m.g, m.measure, m.bucketStart, m.dims, [...m.users]));
}

/**
 * A speed layer with dedupe off counts every copy: the fold counts them too once each copy has an
 * id of its own. Returns those records and, per stored row, how many copies it counted again.
 */
function speedInput(records: readonly GeneratedRecord[], views: ViewSet): { values: string[]; copies: Map<string, number> } {
  const copies = new Map<string, number>();
  const values = records.map((r, i) => {
    const event = r.kind === 'duplicate' ? eventOf(r, views) : null;
    if (event === null) return r.value;
    for (const view of views.views) {
      const p = project(view, event);
      if (p === null) continue;
      for (const g of view.granularities) {
        const key = rowKey(view.name, g, floorTo(event.ts, g), p.dims);
        copies.set(key, (copies.get(key) ?? 0) + 1);
      }
    }
    return JSON.stringify({ ...event.body, id: `${event.id}~copy${i}` });
  });
  return { values, copies };
}

export interface FoldLayers {
  /** the serving layer's context over the two folded stores: one published run, one speed layer */
  ctx: QueryContext & { batch: FakeBatchStore; speed: FakeSpeedStore };
  /**
   * The records a correct answer at granularity g counts: the run's before the boundary floor_g(W),
   * the speed layer's (every copy with an id of its own) from it on. Their reference fold is what
   * every series and totals answer must equal.
   */
  served(g: Granularity): string[];
}

export function foldLayers(opts: FoldLayersOptions): FoldLayers {
  const { views, records } = opts;
  const eventTime = (r: GeneratedRecord) => eventOf(r, views)?.ts ?? null;
  // Invalid records have no event time: each layer reads them (and drops them) like any other.
  const batchRecords = records.filter((r) => (eventTime(r) ?? -Infinity) < opts.batchReadsBefore);
  const speedRecords = records.filter((r) => (eventTime(r) ?? Infinity) >= opts.coveredSince);
  const batch = new FakeBatchStore(views);
  const batchValues = batchRecords.map((r) => r.value);
  batch.publish(runInfo('run-folded', opts.watermark, opts.batchReadsBefore), rowsOfFold(batchValues, views), sketchesOf(batchValues, views));
  const speed = new FakeSpeedStore(views);
  speed.coveredSince = opts.coveredSince;
  const fromSpeed = speedInput(speedRecords, views);
  speed.rows = rowsOfFold(fromSpeed.values, views).map((row) => ({
    ...row,
    late: 0,
    unchecked: 0,
    duplicates: fromSpeed.copies.get(rowKey(row.view, row.granularity, row.bucketStart, row.dims)) ?? 0,
  }));
  speed.sketches = sketchesOf(fromSpeed.values, views);
  const timeOf = (value: string) => {
    const res = parseEventLine(value, views);
    return res.ok ? res.event.ts : null;
  };
  const served = (g: Granularity) => {
    const boundary = floorTo(opts.watermark, g);
    return [...batchValues.filter((v) => (timeOf(v) ?? Infinity) < boundary), ...fromSpeed.values.filter((v) => (timeOf(v) ?? -Infinity) >= boundary)];
  };
  return { ctx: { views, batch, speed, now: () => opts.now }, served };
}
