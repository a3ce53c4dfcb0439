/**
 * A realistic clickstream for demos, tests and benchmarks (SuperWebAnalytics.com style): page
 * views on Zipf-popular URLs by many users, purchases with amounts, per country; plus, on
 * request, the faults the Lambda architecture exists to absorb: late events, duplicate events
 * (the same record sent again, as a producer retry does) and invalid records. Pure and seeded:
 * the same options give the same stream, so the truth can be recomputed independently.
 */
import { mulberry32, pick, weighted, type Rng } from './prng.js';
import { Zipf } from './zipf.js';

export interface GeneratorOptions {
  seed: number;
  /** Event time of the first event (epoch ms). */
  startTs: number;
  /** Events per second of event time (spacing between consecutive events). */
  rate: number;
  /** Fractions of the emitted records, each in [0, 1). */
  lateFraction?: number;
  duplicateFraction?: number;
  invalidFraction?: number;
  /** How far back a late event's time is, at most (default 30 minutes). */
  maxLatenessMs?: number;
  urls?: number;
  users?: number;
  purchaseFraction?: number;
}

export type RecordKind = 'event' | 'late' | 'duplicate' | 'invalid';

export interface GeneratedRecord {
  kind: RecordKind;
  /** The Kafka key (the event id when there is one) and the raw JSONL value. */
  key: string | null;
  value: string;
}

const COUNTRIES: readonly (readonly [string, number])[] = [
  ['US', 30],
  ['DE', 12],
  ['GB', 10],
  ['FR', 9],
  ['JP', 8],
  ['BR', 7],
  ['IN', 7],
  ['CA', 5],
  ['ES', 4],
  ['NL', 3],
  ['SE', 2],
  ['KE', 1],
];

const INVALID_KINDS: readonly ((rng: Rng, ts: number, n: number) => string)[] = [
  () => '{"id": "broken', // not JSON
  (_r, ts) => JSON.stringify({ ts, type: 'pageview', url: '/p/1', user: 'u1' }), // missing id
  (_r, _ts, n) => JSON.stringify({ id: `bad-ts-${n}`, ts: 'yesterday', type: 'pageview', url: '/p/1', user: 'u1' }),
  (_r, ts, n) => JSON.stringify({ id: `bad-amount-${n}`, ts, type: 'purchase', country: 'US', user: 'u1', amount: 'ten' }),
  () => '[1,2,3]', // not an object
];

export function* clickstream(opts: GeneratorOptions): Generator<GeneratedRecord> {
  const rng = mulberry32(opts.seed);
  const zipf = new Zipf(opts.urls ?? 500);
  const users = opts.users ?? 20_000;
  const late = opts.lateFraction ?? 0;
  const dup = opts.duplicateFraction ?? 0;
  const invalid = opts.invalidFraction ?? 0;
  const maxLateness = opts.maxLatenessMs ?? 30 * 60_000;
  const purchaseFraction = opts.purchaseFraction ?? 0.05;
  const stepMs = 1000 / opts.rate;
  const recent: string[] = []; // a window of recent valid records to duplicate from
  for (let n = 0; ; n++) {
    const ts = Math.floor(opts.startTs + n * stepMs);
    const x = rng();
    if (x < invalid) {
      yield { kind: 'invalid', key: null, value: pick(rng, INVALID_KINDS)(rng, ts, n) };
      continue;
    }
    if (x < invalid + dup && recent.length > 0) {
      const value = pick(rng, recent);
      yield { kind: 'duplicate', key: (JSON.parse(value) as { id: string }).id, value };
      continue;
    }
    const isLate = x < invalid + dup + late;
    const eventTs = isLate ? ts - Math.floor(60_000 + rng() * (maxLateness - 60_000)) : ts;
    const id = `e-${opts.seed}-${n}`;
    const user = `u${Math.floor(rng() ** 2 * users)}`; // a few heavy users, a long tail
    const country = weighted(rng, COUNTRIES);
    const body =
      rng() < purchaseFraction
        ? { id, ts: eventTs, type: 'purchase', user, country, url: '/checkout', amount: Math.round(500 + rng() * 19_500) / 100 }
        : { id, ts: eventTs, type: 'pageview', user, country, url: `/p/${zipf.sample(rng)}` };
    const value = JSON.stringify(body);
    if (recent.length < 1000) recent.push(value);
    else recent[Math.floor(rng() * recent.length)] = value;
    yield { kind: isLate ? 'late' : 'event', key: id, value };
  }
}
