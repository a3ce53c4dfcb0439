/**
 * The exact HyperLogLog every distinct measure of the speed layer must hold: for each group of
 * the reference fold, the Redis sketch of its member set (shared/hll builds Redis's own
 * registers). PFADD's registers depend only on the set of members, never on their order or on
 * how often one was added, so a speed HLL equals this sketch register for register, or a member
 * was lost (or one was added that is not in the truth). Unlike an estimate within the HLL error,
 * this catches a single lost member.
 */
import { groupKey } from '../../shared/aggregate/aggregate.js';
import { fromRedis } from '../../shared/hll/hll-format.js';
import { sketchOfMembers } from '../../shared/hll/sketch.js';
import { validDeduped } from '../../shared/reference-fold.js';
import { floorTo } from '../../shared/time.js';
import type { ViewSet } from '../../shared/views/definition.js';
import { project } from '../../shared/views/project.js';
import type { RedisSpeedViewStore } from '../../adapters/redis/speed-view-store.js';

/** groupKey -> measure -> members, for every distinct measure of every view and granularity. */
export function referenceMembers(values: readonly string[], views: ViewSet): Map<string, Map<string, Set<string>>> {
  const out = new Map<string, Map<string, Set<string>>>();
  for (const event of validDeduped(values, views)) {
    for (const view of views.views) {
      const distinct = Object.entries(view.measures)
        .filter(([, m]) => m.type === 'distinct')
        .map(([name]) => name);
      if (distinct.length === 0) continue;
      const p = project(view, event);
      if (p === null) continue;
      for (const g of view.granularities) {
        const key = groupKey(view.name, g, floorTo(event.ts, g), p.dims);
        let measures = out.get(key);
        if (measures === undefined) out.set(key, (measures = new Map()));
        for (const name of distinct) {
          const member = p.measures[name];
          if (member === null || member === undefined) continue;
          let set = measures.get(name);
          if (set === undefined) measures.set(name, (set = new Set()));
          set.add(String(member));
        }
      }
    }
  }
  return out;
}

/**
 * Compares every distinct measure's HLL in the speed layer with the sketch of the reference's
 * members: `short` lists groups whose HLL lacks registers of the truth (members lost), `other`
 * every other difference (a missing or extra HLL, registers above the truth). `compared` counts
 * the groups checked.
 */
export async function compareSketches(
  store: RedisSpeedViewStore,
  views: ViewSet,
  values: readonly string[],
): Promise<{ compared: number; short: string[]; other: string[] }> {
  const truth = referenceMembers(values, views);
  const short: string[] = [];
  const other: string[] = [];
  let compared = 0;
  const seen = new Set<string>();
  for (const view of views.views) {
    for (const [measure, def] of Object.entries(view.measures)) {
      if (def.type !== 'distinct') continue;
      for (const g of view.granularities) {
        for (const row of await store.distinctSketches({ view: view.name, granularity: g, from: 0, to: Date.now() + 86_400_000 }, measure)) {
          const key = groupKey(view.name, g, row.bucketStart, row.dims);
          seen.add(`${key} ${measure}`);
          compared++;
          const members = truth.get(key)?.get(measure);
          if (members === undefined) {
            other.push(`${key} ${measure}: an HLL the reference has no member for`);
            continue;
          }
          const want = fromRedis(sketchOfMembers(members)).registers;
          const got = fromRedis(row.sketch).registers;
          if (Buffer.compare(want, got) === 0) continue;
          const lacks = want.some((w, i) => w > got[i]!);
          (lacks ? short : other).push(`${key} ${measure}: registers differ from the sketch of its ${members.size} members`);
        }
      }
    }
  }
  for (const [key, measures] of truth) {
    for (const [measure, members] of measures) {
      if (members.size > 0 && !seen.has(`${key} ${measure}`)) short.push(`${key} ${measure}: no HLL for ${members.size} members`);
    }
  }
  return { compared, short, other };
}
