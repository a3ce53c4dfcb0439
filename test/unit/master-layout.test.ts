import { describe, expect, it } from 'vitest';
import {
  arrivalHour,
  arrivalHourStart,
  checkpointKey,
  importTopic,
  isImportTopic,
  parseCheckpointKey,
  parseSegmentKey,
  segmentKey,
} from '../../shared/master/layout.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../adapters/master/checkpoint-codec.js';
import { isLambdaError } from '../../shared/errors.js';

describe('master dataset layout', () => {
  it('formats the docs/design-decisions.md §4 key with a 20-digit offset and parses it back', () => {
    const c = { arrivalHour: '2024-03-05T07', topic: 'events', partition: 3, firstOffset: 42 };
    const key = segmentKey(c);
    expect(key).toBe('events/arrival=2024-03-05T07/events-3-00000000000000000042.jsonl.gz');
    expect(parseSegmentKey(key)).toEqual(c);
  });

  it('round-trips topics that contain dashes and dots, and big offsets', () => {
    for (const topic of ['a-b-c', 'x.y', 'import.0123456789abcdef', 't-1-2']) {
      for (const firstOffset of [0, 1, 999, Number.MAX_SAFE_INTEGER]) {
        const c = { arrivalHour: '1999-12-31T23', topic, partition: 11, firstOffset };
        expect(parseSegmentKey(segmentKey(c))).toEqual(c);
      }
    }
  });

  it('sorts keys of one partition in offset order (lexical = numeric)', () => {
    const offsets = [0, 9, 10, 99, 100, 12345, 1_000_000, 99_999_999_999];
    const keys = offsets.map((firstOffset) => segmentKey({ arrivalHour: '2024-01-01T00', topic: 'ev', partition: 0, firstOffset }));
    const shuffled = [...keys].reverse();
    expect(shuffled.sort()).toEqual(keys);
  });

  it('names the arrival hour in UTC and maps it back to the hour start', () => {
    const ts = Date.UTC(2024, 1, 29, 23, 59, 59, 999);
    expect(arrivalHour(ts)).toBe('2024-02-29T23');
    expect(arrivalHourStart('2024-02-29T23')).toBe(Date.UTC(2024, 1, 29, 23));
    expect(arrivalHour(0)).toBe('1970-01-01T00');
  });

  it('rejects what cannot be a key instead of writing a strange path', () => {
    const bad = [
      () => segmentKey({ arrivalHour: '2024-01-01T00', topic: '../etc', partition: 0, firstOffset: 0 }),
      () => segmentKey({ arrivalHour: '2024-01-01T00', topic: 'ev', partition: -1, firstOffset: 0 }),
      () => segmentKey({ arrivalHour: '2024-01-01T00', topic: 'ev', partition: 0, firstOffset: 1.5 }),
      () => segmentKey({ arrivalHour: '2024-1-1T00', topic: 'ev', partition: 0, firstOffset: 0 }),
      () => arrivalHour(-1),
      () => arrivalHour(Number.NaN),
    ];
    for (const f of bad) {
      let caught: unknown;
      try {
        f();
      } catch (e) {
        caught = e;
      }
      expect(isLambdaError(caught)).toBe(true);
    }
  });

  it('does not mistake other files for segments', () => {
    for (const key of [
      'events/arrival=2024-01-01T00/ev-0-42.jsonl.gz', // unpadded
      'events/arrival=2024-01-01T00/ev-0-00000000000000000042.jsonl.gz.123-abcd.tmp',
      'events/arrival=2024-01-01T00/ev-0-00000000000000000042.jsonl',
      'events/2024-01-01T00/ev-0-00000000000000000042.jsonl.gz',
      'events/arrival=2024-01-01T00/ev-00000000000000000042.jsonl.gz',
    ]) {
      expect(parseSegmentKey(key)).toBeNull();
    }
  });

  it('names checkpoints per topic-partition', () => {
    expect(checkpointKey({ topic: 'my-topic', partition: 7 })).toBe('checkpoints/my-topic-7.json');
    expect(parseCheckpointKey('checkpoints/my-topic-7.json')).toEqual({ topic: 'my-topic', partition: 7 });
    expect(parseCheckpointKey('checkpoints/my-topic-7.json.1-ab.tmp')).toBeNull();
  });

  it('recognises import pseudo topics', () => {
    const t = importTopic('0123456789abcdef');
    expect(t).toBe('import.0123456789abcdef');
    expect(isImportTopic(t)).toBe(true);
    expect(isImportTopic('events')).toBe(false);
    expect(isImportTopic('import')).toBe(false);
  });
});

describe('checkpoint codec', () => {
  const cp = { topic: 'ev', partition: 1, lastOffset: 99, completeThrough: 1_700_000_000_000, updatedAt: 1_700_000_000_500 };

  it('round-trips', () => {
    expect(decodeCheckpoint(encodeCheckpoint(cp), 'x')).toEqual(cp);
  });

  it('treats a damaged checkpoint as an error, naming the file', () => {
    expect(() => decodeCheckpoint('{"version":1,', 'checkpoints/ev-1.json')).toThrow(/checkpoints\/ev-1.json is not valid JSON/);
    expect(() => decodeCheckpoint(JSON.stringify({ version: 1, ...cp, lastOffset: 'x' }), 'f')).toThrow(/f is malformed: lastOffset/);
    expect(() => encodeCheckpoint({ ...cp, completeThrough: -5 })).toThrow(/invalid checkpoint/);
  });
});
