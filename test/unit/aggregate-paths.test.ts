/**
 * The batch layer's fast paths give exactly what the plain paths give: validation that keeps its
 * projections, adding a projection, merging a partial straight from its plain form, and the
 * internal dims key (no two dimension tuples may share a group).
 */
import { describe, expect, it } from 'vitest';
import { Aggregate } from '../../shared/aggregate/aggregate.js';
import { parseEventLine, parseProjectedLine, validateAndProject, validateEvent } from '../../shared/events.js';
import { clickstream } from '../../shared/generator/clickstream.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { loadViews } from '../../shared/views/load.js';
import { project } from '../../shared/views/project.js';

const views = defaultViewSet();

function lines(n: number): string[] {
  const out: string[] = [];
  for (const r of clickstream({
    seed: 3,
    startTs: Date.UTC(2024, 0, 1),
    rate: 5,
    duplicateFraction: 0.05,
    invalidFraction: 0.05,
    lateFraction: 0.05,
    purchaseFraction: 0.3,
  })) {
    out.push(r.value);
    if (out.length >= n) return out;
  }
  return out;
}

describe('validation that keeps its projections', () => {
  it('agrees with parseEventLine / validateEvent and with project()', () => {
    for (const line of [...lines(2000), '', '[1]', '{"id":"x","ts":1,"type":"purchase","amount":"7"}', '{"id":"y","ts":1,"type":"pageview","url":{"a":1}}']) {
      const plain = parseEventLine(line, views);
      const projected = parseProjectedLine(line, views);
      expect(projected.ok).toBe(plain.ok);
      if (!projected.ok || !plain.ok) {
        expect(projected).toEqual(plain);
        continue;
      }
      expect(projected.event).toEqual(plain.event);
      expect(projected.projections).toEqual(views.views.map((v) => project(v, plain.event)));
      expect(validateAndProject(JSON.parse(line), views).ok).toBe(validateEvent(JSON.parse(line), views).ok);
    }
  });
});

describe('Aggregate fast paths', () => {
  it('addProjection folds like add, mergePlain merges like mergeFrom(fromPlain)', () => {
    const events = lines(3000)
      .map((l) => parseProjectedLine(l, views))
      .filter((r) => r.ok);
    const viaAdd = new Aggregate();
    const a = new Aggregate();
    const b = new Aggregate();
    events.forEach((r, i) => {
      viaAdd.add(r.event, views);
      const half = i % 2 === 0 ? a : b;
      r.projections.forEach((p, v) => p && half.addProjection(views.views[v]!, r.event.ts, p));
    });
    const merged = Aggregate.fromPlain(a.toPlain());
    merged.mergeFrom(Aggregate.fromPlain(b.toPlain()));
    const direct = new Aggregate();
    direct.mergePlain(a.toPlain());
    direct.mergePlain(b.toPlain());
    const sorted = (x: Aggregate) =>
      x
        .toPlain()
        .groups.sort((g, h) =>
          JSON.stringify([g.view, g.granularity, g.bucketStart, g.dims]) < JSON.stringify([h.view, h.granularity, h.bucketStart, h.dims]) ? -1 : 1,
        );
    const norm = (x: Aggregate) =>
      sorted(x).map((g) => ({ ...g, measures: JSON.parse(JSON.stringify(g.measures, (_k, v: unknown) => (Array.isArray(v) ? [...v].sort() : v))) as unknown }));
    expect(norm(direct)).toEqual(norm(viaAdd));
    expect(norm(merged)).toEqual(norm(viaAdd));
  });

  it('keeps every dimension tuple its own group, with one and with several dimensions', () => {
    const vs = loadViews(
      JSON.stringify({
        views: [
          { name: 'one', dimensions: ['x'], measures: { n: { type: 'count' } } },
          { name: 'two', dimensions: ['x', 'y'], measures: { n: { type: 'count' } } },
        ],
      }),
      'dims.json',
    );
    const tuples: [unknown, unknown][] = [
      [null, null],
      ['null', null],
      ['', null],
      [null, ''],
      ['', ''],
      ['1:a', null],
      ['1:a-', null],
      ['1:a', '-'],
      ['-', '-'],
      ['--', null],
      ['1', '1'],
      ['11', ''],
      [1, 1],
      ['a:b', 'c'],
      ['a', 'b:c'],
      ['🙂', 'é'],
    ];
    const agg = new Aggregate();
    tuples.forEach(([x, y], i) => {
      const r = validateEvent({ id: String(i), ts: 0, ...(x === null ? {} : { x }), ...(y === null ? {} : { y }) }, vs);
      if (!r.ok) throw new Error(r.message);
      agg.add(r.event, vs);
    });
    const groups = (view: string) => [...agg.groups()].filter((g) => g.view === view && g.granularity === 'day');
    // two-dim: [1, 1] is ['1', '1'] again (numbers are normalised to strings); every other tuple is new
    expect(groups('two')).toHaveLength(tuples.length - 1);
    expect(groups('one').map((g) => g.dims[0])).toEqual([null, 'null', '', '1:a', '1:a-', '-', '--', '1', '11', 'a:b', 'a', '🙂']);
    expect(agg.get('two', 'day', 0, ['1', '1'])?.measures.n).toEqual({ kind: 'count', n: 2 });
    expect(agg.get('two', 'day', 0, ['1:a', '-'])?.measures.n).toEqual({ kind: 'count', n: 1 });
  });
});
