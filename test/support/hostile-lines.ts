/**
 * Hostile master-dataset lines for the batch engines' differential tests (issue 15): every spot
 * where a SQL engine could disagree with shared/events.ts (JSON edge cases, escapes, duplicate
 * keys, decimal and number-formatting edges, ISO timestamps, nulls, limits counted in UTF-16,
 * nesting), mixed with the seeded clickstream, over several days so every granularity has groups.
 */
import { DEFAULT_VIEWS_JSON } from '../../shared/views/default-views.js';
import { rand } from '../unit/_prng.js';
import { clickstreamLines, T0 } from './batch-master.js';

/** The default views plus views that read numbers, booleans, two dimensions and every measure kind. */
export const HOSTILE_VIEWS_JSON = JSON.stringify({
  views: [
    ...(JSON.parse(DEFAULT_VIEWS_JSON) as { views: unknown[] }).views,
    {
      name: 'by_country_type',
      dimensions: ['country', 'type'],
      measures: {
        events: { type: 'count' },
        users: { type: 'distinct', field: 'user' },
        low: { type: 'min', field: 'amount', decimals: 3 },
        high: { type: 'max', field: 'amount', decimals: 3 },
        total: { type: 'sum', field: 'amount', decimals: 3 },
      },
      granularities: ['minute', 'hour', 'day'],
    },
    {
      name: 'api',
      dimensions: ['status', 'ok'],
      filter: { kind: 'api', v: 2 },
      measures: {
        calls: { type: 'count' },
        latency: { type: 'sum', field: 'ms', decimals: 0 },
        slowest: { type: 'max', field: 'ms', decimals: 6 },
        fastest: { type: 'min', field: 'ms', decimals: 6 },
        callers: { type: 'distinct', field: 'user' },
      },
      granularities: ['hour', 'day'],
    },
    {
      name: 'flags',
      dimensions: [],
      filter: { beta: true, gone: null },
      measures: { n: { type: 'count' }, who: { type: 'distinct', field: 'user' } },
      granularities: ['day'],
    },
  ],
});

const ISO_TS = [
  '2024-05-01T10:00:00Z',
  '2024-05-01T10:00:00z',
  '2024-05-01t10:00:00Z',
  '2024-05-01T12:00:00+02:00',
  '2024-05-01T04:30:00-0530',
  '2024-05-01T15:00:00+05',
  '2024-05-01T10:00:00.123456Z',
  '2024-05-01T10:00:00,5Z',
  '2024-05-01T10:00Z',
  '2024-05-01T10:00:59.999+00:00',
  '2024-02-29T10:00:00Z',
  '2023-02-29T10:00:00Z',
  '2024-04-31T10:00:00Z',
  '2024-13-01T10:00:00Z',
  '2024-05-01T24:00:00Z',
  '2024-05-01T10:60:00Z',
  '2024-05-01T10:00:60Z',
  '2024-05-01T10:00:00',
  '2024-05-01',
  '2024-05-01T10:00:00+24:00',
  '2024-05-01T10:00:00+02:60',
  '1969-12-31T23:30:00-01:00',
  '1969-12-31T23:59:59Z',
  '1970-01-01T00:00:00+00:01',
  '1970-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '9999-12-31T23:59:59.999-00:01',
  '0099-05-01T10:00:00Z',
  '1700000000000',
  '-1',
  ' 2024-05-01T10:00:00Z',
  '2024-05-01T10:00:00Z ',
  '2024-5-01T10:00:00Z',
  '2024-05-01T10:00:00.Z',
  '2000-02-29T23:59:59-23:59',
  '1900-02-29T10:00:00Z',
  '2100-02-29T10:00:00Z',
];

const NUMBER_TS = [
  '0',
  '-0',
  '-0.0',
  '1.5',
  '1e12',
  '1.7e12',
  '1714557600000',
  '1714557600000.0',
  '1714557600000.5',
  '17145576000000e-1',
  '-1',
  '253402300799999',
  '253402300800000',
  '2.53402300799999e14',
  '1e400',
  '1e-400',
  '12345678901234567890',
  '1714557600000.000000000001',
  'true',
  'false',
  '[]',
  '{}',
  '"x"',
];

const AMOUNTS = [
  '12.34',
  '12.340',
  '1.234e1',
  '12.345',
  '0.1',
  '1e-7',
  '1e-2',
  '0.30000000000000004',
  '87960930222.07',
  '87960930222.08',
  '8796093022.207',
  '8796093022.208',
  '-0',
  '-0.0',
  '1e400',
  '1E2',
  '5e-324',
  '1.0000000000000000001',
  '123456789012345678',
  '-12.5',
  '0.000001',
  '0.001',
  '-87960930222.07',
  '1e13',
  '100000000000000000000e-10',
  '0.0000000000000000001e19',
  '"9"',
  'true',
  'null',
  '[1]',
  '{"a":1}',
  '0',
  '7',
  '999999999999999',
  '9999999999999999',
  '2.5e-3',
  '2.5E+1',
  '1.5e0',
  '0e999999',
  '1e999999',
];

const DIM_VALUES = [
  '"/a"',
  '"/b"',
  '7',
  '7.0',
  '"7"',
  '1.5',
  '1e21',
  '9007199254740991',
  '9007199254740992',
  '-9007199254740991',
  '1e-7',
  '0.000001',
  '1e-6',
  '-0',
  'true',
  'false',
  'null',
  '"null"',
  '"é"',
  '"\\u00e9"',
  '"日本"',
  '"\\u2028"',
  '"a\\"b"',
  '"\\u0000"',
  '"\\ud800"',
  '"😀"',
  '[1]',
  '{}',
  '123456789012345',
  '0.1',
  '100',
  '1e2',
  '-1.25e-5',
  '12345678.9',
  '1e20',
  '123e18',
  '0.00000123',
  '"\ufeffbom"',
  '"\ufeff"',
];

function repeatStr(s: string, n: number): string {
  return JSON.stringify(s.repeat(n));
}

/** Hand-written lines around the limits and the grammar (no randomness). */
function fixedLines(): string[] {
  const ts = T0 + 5_000;
  const base = (id: string, extra: string) => `{"id":"${id}","ts":${ts},${extra}}`;
  return [
    '',
    ' ',
    'not json',
    '{',
    '{"id":"a1","ts":1,}',
    '[1,2]',
    '"str"',
    '5',
    'null',
    '{"id":"a2" "ts":1}',
    '{"id":"a3","ts":NaN}',
    "{'id':'a4','ts':1}",
    '\ufeff{"id":"a5","ts":1}',
    '{"id":"a6","ts":1}garbage',
    '{"id":"a7","ts":1} ',
    '\t{ "id" : "a8" , "ts" : 1 }\t',
    '{}',
    '{"id":null,"ts":1}',
    '{"ts":1}',
    '{"id":"","ts":1}',
    '{"id":5,"ts":1}',
    '{"id":true,"ts":1}',
    '{"id":["x"],"ts":1}',
    '{"id":"a9"}',
    '{"id":"a10","ts":null}',
    `{"id":"${'i'.repeat(256)}","ts":1}`,
    `{"id":"${'i'.repeat(257)}","ts":1}`,
    `{"id":${repeatStr('😀', 128)},"ts":1}`,
    `{"id":${repeatStr('😀', 129)},"ts":1}`,
    `{"id":${repeatStr('é', 256)},"ts":1}`,
    `{"id":${repeatStr('é', 257)},"ts":1}`,
    '{"id":"\\u0000","ts":1}',
    '{"id":"\\ud800","ts":1}',
    '{"id":"\\ud83d\\ude00x","ts":1}',
    // a raw U+0000 is never JSON (and cannot cross DuckDB's C API: judged in TypeScript)
    'x\u0000',
    `{"id":"z0","ts":1}\u0000`,
    // duplicate keys: JSON.parse keeps the last
    base('k1', '"type":"pageview","url":"/first","url":"/last","user":"u1"'),
    `{"id":"k2","id":"k3","ts":${ts},"type":"pageview","url":"/k"}`,
    `{"id":"k4","ts":null,"ts":${ts},"type":"pageview","url":"/k"}`,
    `{"id":"k5","ts":${ts},"ts":"soon","type":"pageview","url":"/k"}`,
    base('k6', '"type":"purchase","country":"DE","amount":1,"amount":"x"'),
    base('k7', '"type":"pageview","type":"purchase","country":"FR","amount":2'),
    base('k8', '"type":"pageview","url":"/k","x":1,"x":2'),
    // nesting: 32 levels is the limit, anywhere in the event
    base('n1', `"type":"pageview","url":"/n","deep":${'['.repeat(31)}${']'.repeat(31)}`),
    base('n2', `"type":"pageview","url":"/n","deep":${'['.repeat(32)}${']'.repeat(32)}`),
    base('n3', `"type":"pageview","url":"/n","o":${'{"a":'.repeat(31)}1${'}'.repeat(31)}`),
    base('n4', `"type":"pageview","url":"/n","o":${'{"a":'.repeat(32)}1${'}'.repeat(32)}`),
    // value lengths in UTF-16 units
    base('l1', `"type":"pageview","url":${repeatStr('u', 1024)}`),
    base('l2', `"type":"pageview","url":${repeatStr('u', 1025)}`),
    base('l3', `"type":"pageview","url":${repeatStr('😀', 512)}`),
    base('l4', `"type":"pageview","url":${repeatStr('😀', 513)}`),
    base('l5', `"type":"pageview","url":${repeatStr('日', 1024)}`),
    base('l6', `"type":"pageview","url":${repeatStr('日', 1025)}`),
    base('l9', `"type":"pageview","url":${repeatStr('e\u0301', 600)}`),
    base('l10', `"type":"pageview","url":${repeatStr('e\u0301', 512)}`),
    base('l7', `"type":"pageview","url":"/l","user":${repeatStr('😀', 600)}`),
    base('l8', `"type":"pageview","url":"/l","unread":${repeatStr('x', 5000)}`),
    // filters compare typed values; a missing field equals null
    base('f1', '"type":"Pageview","url":"/f"'),
    base('f2', '"type":1,"url":"/f"'),
    base('f3', '"kind":"api","v":2.0,"status":200,"ok":true,"ms":5'),
    base('f4', '"kind":"api","v":"2","status":200,"ms":5'),
    base('f5', '"kind":"api","v":2e0,"status":"200","ok":false,"ms":1.5'),
    base('f6', '"beta":true,"user":"b1"'),
    base('f7', '"beta":true,"gone":null,"user":"b2"'),
    base('f8', '"beta":true,"gone":0,"user":"b3"'),
    base('f9', '"beta":"true","user":"b4"'),
    base('f10', '"kind":"api","v":20e-1,"status":-0,"ok":null,"ms":0.000001'),
    base('f11', '"kind":"api","v":2.00000000000000001,"status":1,"ms":1'),
  ];
}

/** Lines that vary one field over a list, for every list above. */
function variedLines(): string[] {
  const out: string[] = [];
  let i = 0;
  const id = () => `h${i++}`;
  for (const t of ISO_TS) out.push(`{"id":"${id()}","ts":${JSON.stringify(t)},"type":"pageview","url":"/iso","user":"u1"}`);
  for (const t of NUMBER_TS) out.push(`{"id":"${id()}","ts":${t},"type":"pageview","url":"/num","user":"u2"}`);
  for (const a of AMOUNTS) {
    out.push(`{"id":"${id()}","ts":${T0 + i * 1000},"type":"purchase","country":"AM","amount":${a}}`);
    out.push(`{"id":"${id()}","ts":${T0 + i * 1000},"kind":"api","v":2,"status":201,"ms":${a},"user":"api1"}`);
  }
  for (const d of DIM_VALUES) {
    out.push(`{"id":"${id()}","ts":${T0 + i * 1000},"type":"pageview","url":${d},"user":${d}}`);
    out.push(`{"id":"${id()}","ts":${T0 + i * 1000},"kind":"api","v":2,"status":${d},"ok":${d},"ms":1,"user":${d}}`);
  }
  return out;
}

/** The id JSON.parse finds in a line, or null. */
function idOf(line: string): unknown {
  try {
    return (JSON.parse(line) as { id?: unknown } | null)?.id ?? null;
  } catch {
    return null;
  }
}

/**
 * The whole stream: clickstream events, the hostile lines, random recombinations of their parts
 * over 3 days, and duplicates. Which copy of an id the reference engine keeps when copies sit in
 * different files depends on its worker scheduling (docs/design-decisions.md, "Batch layer"), so
 * copies whose payloads differ are either in one file (the first lines, all in the first file:
 * read in order by both engines) or differ only in a field no view reads.
 */
export function hostileStream(n = 3000, seed = 15): string[] {
  const r = rand(seed);
  const ts = T0 + 5_000;
  const head = [
    `{"id":"same-file","ts":${T0},"type":"pageview","url":"/one","user":"s1"}`,
    `{"id":"same-file","ts":${T0 + 86_400_000},"type":"pageview","url":"/two","user":"s2"}`,
    `{"id":"same-file","ts":${T0},"type":"pageview","url":"/one","user":"s1"}`,
    // escaped and plain spellings of one id: duplicates of each other
    `{"id":"é1","ts":${ts},"type":"pageview","url":"/e","user":"u1"}`,
    `{"id":"\\u00e91","ts":${ts},"type":"pageview","url":"/e","user":"u1"}`,
    `{"id":"\\u00e91","ts":${ts + 1},"type":"pageview","url":"/e2","user":"u2"}`,
    // an invalid record never hides a valid one of the same id
    `{"id":"inv-first","ts":"soon","type":"pageview","url":"/x"}`,
    `{"id":"inv-first","ts":${T0},"type":"pageview","url":"/x"}`,
  ];
  const body = [...clickstreamLines(n), ...fixedLines(), ...variedLines()];
  for (let i = 0; i < 600; i++) {
    const t = r.chance(0.2) ? JSON.stringify(r.pick(ISO_TS)) : String(T0 + r.int(-86_400_000, 2 * 86_400_000));
    const fields = [
      `"id":"r${i}"`,
      r.chance(0.95) ? `"ts":${t}` : '"ts":null',
      `"type":${r.pick(['"pageview"', '"purchase"', '"pageview"', 'null', '1'])}`,
      r.chance(0.8) ? `"url":${r.pick(DIM_VALUES)}` : '',
      r.chance(0.8) ? `"user":${r.pick(DIM_VALUES)}` : '',
      r.chance(0.5) ? `"country":${r.pick(['"DE"', '"FR"', '"日本"', 'null', '3', 'true'])}` : '',
      r.chance(0.5) ? `"amount":${r.pick(AMOUNTS)}` : '',
      r.chance(0.3) ? `"kind":"api","v":2,"status":${r.pick(DIM_VALUES)},"ok":${r.pick(['true', 'false', 'null'])},"ms":${r.pick(AMOUNTS)}` : '',
      r.chance(0.1) ? `"beta":true` : '',
    ].filter((f) => f !== '');
    body.push(`{${fields.join(r.chance(0.2) ? ' , ' : ',')}}`);
  }
  // Same-payload copies, anywhere later, of lines whose id has only one payload in the stream.
  const payloads = new Map<unknown, Set<string>>();
  for (const l of [...head, ...body]) {
    const id = idOf(l);
    if (typeof id === 'string') payloads.set(id, (payloads.get(id) ?? new Set()).add(l));
  }
  const copyable = body.filter((l) => {
    const id = idOf(l);
    return typeof id !== 'string' || payloads.get(id)?.size === 1;
  });
  const copies = Array.from({ length: 150 }, () => copyable[r.int(0, copyable.length - 1)] as string);
  // A payload differing in a field no view reads, two copies: one differing duplicate whichever is kept.
  const differing: string[] = [];
  for (let i = 0; i < 20; i++) {
    differing.push(`{"id":"dp${i}","ts":${T0 + i * 60_000},"type":"pageview","url":"/dp","user":"u${i}","extra":1}`);
    copies.push(`{"id":"dp${i}","ts":${T0 + i * 60_000},"type":"pageview","url":"/dp","user":"u${i}","extra":2}`);
  }
  return [...head, ...body, ...differing, ...copies];
}
