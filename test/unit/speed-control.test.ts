/**
 * The speed layer's runtime control (issue 20; shared/speed/control.ts), without services: how
 * the stored hash reads, which control an instance obeys when reads come back out of order, which
 * dedupe it applies and where that comes from; the fetch handler on fakes obeying a pause (nothing
 * applied, nothing resolved, all of it applied once after the resume) and a dedupe switched off
 * at runtime; and the invalid records' per-reason totals in the apply's arguments.
 */
import { ConsumerPositions } from '../../speed-layer/consumer-positions.js';
import { describe, expect, it } from 'vitest';
import { fakeHandlerDeps, fetchedBatch } from '../support/fetch-handler-fakes.js';
import { parseControl } from '../../adapters/redis/speed-control.js';
import { encodeApply } from '../../adapters/redis/apply-ops.js';
import { invalidReasonField, reasonOfInvalidField } from '../../adapters/redis/keys.js';
import { NO_CONTROL, effectiveDedupe, newerControl, type SpeedControl } from '../../shared/speed/control.js';
import { FetchHandler } from '../../speed-layer/fetch-handler.js';

const T0 = Date.now() - 60_000;

describe('the runtime control as stored', () => {
  it('reads an absent or unreadable hash as nothing set, and each field on its own', () => {
    expect(parseControl({})).toEqual(NO_CONTROL);
    expect(parseControl(null)).toEqual(NO_CONTROL);
    expect(parseControl({ dedupe: '0', version: '3', updatedAt: '1700000000000' })).toEqual({
      dedupe: false,
      paused: false,
      version: 3,
      updatedAt: 1_700_000_000_000,
    });
    expect(parseControl({ dedupe: '1', paused: '1', version: '4' })).toMatchObject({ dedupe: true, paused: true, version: 4 });
    expect(parseControl({ dedupe: 'maybe', paused: 'yes', version: '-2', updatedAt: 'x' })).toEqual(NO_CONTROL);
  });

  it('obeys the newest version read, and the defaults again once the hash is deleted', () => {
    const v2: SpeedControl = { dedupe: false, paused: true, version: 2, updatedAt: 2 };
    const v3: SpeedControl = { dedupe: null, paused: false, version: 3, updatedAt: 3 };
    expect(newerControl(NO_CONTROL, v2)).toBe(v2);
    expect(newerControl(v3, v2)).toBe(v3); // a fetch's older read, answered after a tick's newer one
    expect(newerControl(v2, v3)).toBe(v3);
    expect(newerControl(v3, NO_CONTROL)).toBe(NO_CONTROL);
  });

  it("applies the admin switch when set, else the instance's LAMBDA_SPEED_DEDUPE, and says which", () => {
    expect(effectiveDedupe(NO_CONTROL, true)).toEqual({ dedupe: true, from: 'LAMBDA_SPEED_DEDUPE' });
    expect(effectiveDedupe(NO_CONTROL, false)).toEqual({ dedupe: false, from: 'LAMBDA_SPEED_DEDUPE' });
    expect(effectiveDedupe({ ...NO_CONTROL, dedupe: false, version: 1 }, true)).toEqual({ dedupe: false, from: 'admin' });
    expect(effectiveDedupe({ ...NO_CONTROL, dedupe: true, version: 1 }, false)).toEqual({ dedupe: true, from: 'admin' });
  });

  it("keeps the invalid records' totals by reason beside the total, in the apply's HINCRBY pairs", () => {
    expect(reasonOfInvalidField(invalidReasonField('bad_ts'))).toBe('bad_ts');
    expect(reasonOfInvalidField('invalid')).toBeNull();
    const { args } = encodeApply(
      'la',
      {
        partition: 0,
        expectedNext: 0,
        newNext: 3,
        groups: [],
        counters: new Map(),
        lateClass: [],
        totals: { events: 0, duplicatesSkipped: 0, duplicatesApplied: 0, late: 0, invalid: 3, unchecked: 0 },
        invalidByReason: new Map([
          ['not_json', 2],
          ['bad_ts', 1],
        ]),
        nowMs: T0,
      },
      { batchPeriodMs: 300_000, allowedLatenessMs: 60_000 },
    );
    expect(args[4]).toBe('3'); // three HINCRBY pairs into the state hash
    expect(args.slice(7, 13)).toEqual(['invalid', '3', 'invalid:not_json', '2', 'invalid:bad_ts', '1']);
  });
});

/** 20 pageviews, every other one a copy of the one before (same id), then 2 invalid records. */
const values = [
  ...Array.from({ length: 20 }, (_, i) => JSON.stringify({ id: `e${Math.floor(i / 2)}`, ts: T0 + i, type: 'pageview', url: '/x', user: `u${i}` })),
  'not json',
  '{"id": "x"}',
];

function fixture(control: { current: SpeedControl; paused: boolean }) {
  const deps = fakeHandlerDeps({
    applyMaxEvents: 8,
    positions: positionedAt0(),
    // As the speed layer does: take the newer control, pause while it says so.
    onControl: (c) => {
      control.current = newerControl(control.current, c);
      control.paused = control.current.paused;
      return control.current;
    },
    paused: () => control.paused,
  });
  const { store } = deps;
  const resolved: string[] = [];
  const handler = new FetchHandler(deps);
  const fetch = () =>
    handler.handle(
      fetchedBatch(
        values.map((value, i) => ({ offset: i, key: null, value, timestamp: T0 + i })),
        { highWatermark: values.length, resolveOffset: (o) => void resolved.push(o) },
      ),
    );
  return { store, resolved, fetch };
}

describe('the fetch handler obeys the runtime control', () => {
  it('paused, applies and resolves nothing; resumed, applies every record once', async () => {
    const control = { current: NO_CONTROL, paused: false };
    const { store, resolved, fetch } = fixture(control);
    await store.initPartition('events', 0, { next: 0, coveredSince: 0 });
    store.control = { dedupe: null, paused: true, version: 1, updatedAt: T0 };
    await fetch();
    expect(control.paused).toBe(true);
    expect(store.applied).toEqual([]);
    expect(resolved).toEqual([]);
    expect(store.partitions.get(0)?.next).toBe(0);

    store.control = { dedupe: null, paused: false, version: 2, updatedAt: T0 };
    control.paused = false; // the status tick's read, which a paused consumer depends on
    control.current = store.control;
    await fetch();
    await fetch(); // a replay of the same records: nothing more
    expect(store.partitions.get(0)?.next).toBe(values.length);
    const sum = (k: 'events' | 'duplicatesSkipped' | 'invalid') => store.applied.reduce((n, a) => n + a.totals[k], 0);
    expect([sum('events'), sum('duplicatesSkipped'), sum('invalid')]).toEqual([10, 10, 2]);
    expect(store.applied.flatMap((a) => [...(a.invalidByReason ?? [])])).toEqual([
      ['not_json', 1],
      ['missing_ts', 1],
    ]);
  });

  it('with the dedupe switched off by an admin, applies the copies although LAMBDA_SPEED_DEDUPE is on', async () => {
    const control = { current: NO_CONTROL, paused: false };
    const { store, fetch } = fixture(control);
    await store.initPartition('events', 0, { next: 0, coveredSince: 0 });
    store.control = { dedupe: false, paused: false, version: 1, updatedAt: T0 };
    await fetch();
    const sum = (k: 'events' | 'duplicatesApplied' | 'duplicatesSkipped') => store.applied.reduce((n, a) => n + a.totals[k], 0);
    expect([sum('events'), sum('duplicatesApplied'), sum('duplicatesSkipped')]).toEqual([20, 10, 0]);
  });
});

/** Positions with partition 0 at offset 0, as after an assignment. */
function positionedAt0(): ConsumerPositions {
  const positions = new ConsumerPositions(() => undefined);
  positions.seekTo(0, 0);
  return positions;
}
