import { describe, expect, it } from 'vitest';
import { advanceCompleteThrough, PartitionState, resumeDecision } from '../../batch-layer/archiver/partition-state.js';
import { classifyRecord } from '../../batch-layer/archiver/record.js';
import { defaultViewSet } from '../../shared/views/default-views.js';

const rec = (offset: number, timestamp: number) => ({ offset, timestamp, line: `{"id":"e${offset}","ts":${timestamp}}` });

describe('archiver partition state', () => {
  it('starts a segment right after the last archived offset and files it under the first record time', () => {
    const s = new PartitionState(2, 41, null);
    s.add(rec(45, 5_000), 100); // offsets 42..44 are absent from the log (e.g. transaction markers)
    s.add(rec(46, 9_000), 101);
    const d = s.draft(10_000);
    expect(d).toMatchObject({ partition: 2, firstOffset: 42, lastOffset: 46, arrivalTs: 5_000 });
    expect(d.lines).toHaveLength(2);
    // The name does not depend on when the flush happens.
    expect(s.draft(99_999_999).firstOffset).toBe(42);
    expect(s.draft(99_999_999).arrivalTs).toBe(5_000);
  });

  it('moves on only when a segment is archived', () => {
    const s = new PartitionState(0, -1, null);
    s.add(rec(0, 1), 0);
    s.add(rec(1, 2), 0);
    const d = s.draft(10);
    s.add(rec(2, 3), 0);
    expect(() => s.add(rec(2, 3), 0)).toThrow(/already archived/);
    s.archived(d);
    expect(s.lastArchived).toBe(1);
    expect(s.size).toBe(0);
    expect(s.nextOffset).toBe(3);
  });

  it('is due after flushMs since its first record, and never when empty', () => {
    const s = new PartitionState(0, -1, null);
    expect(s.isDue(1_000_000, 10)).toBe(false);
    s.add(rec(0, 1), 1_000);
    expect(s.isDue(1_009, 10)).toBe(false);
    expect(s.isDue(1_010, 10)).toBe(true);
  });

  it('completeThrough: the time before the end was read when the segment reaches it, else (LogAppendTime) the last record time', () => {
    const s = new PartitionState(0, -1, null, [], true);
    s.observe(3); // the partition end is offset 3
    s.add(rec(0, 10_000), 0);
    s.add(rec(1, 20_000), 0);
    expect(s.caughtUp()).toBe(false);
    expect(s.draft(60_000).completeThrough).toBe(20_000); // behind the end
    s.add(rec(2, 30_000), 0);
    expect(s.caughtUp()).toBe(true);
    expect(s.reachesEnd(3)).toBe(true);
    expect(s.reachesEnd(4)).toBe(false); // more arrived since the batch was fetched
    expect(s.draft(60_000, 50_000).completeThrough).toBe(50_000); // caught up, confirmed at 50 000
  });

  it('completeThrough never moves back and never claims the future', () => {
    const s = new PartitionState(0, 9, 70_000, [], true);
    s.observe(100);
    s.add(rec(10, 20_000), 0);
    expect(s.draft(90_000).completeThrough).toBe(70_000);
    s.add(rec(11, 10 ** 13), 0); // a clock far in the future
    expect(s.draft(90_000).completeThrough).toBe(90_000);
    expect(advanceCompleteThrough(null, 5)).toBe(5);
    expect(advanceCompleteThrough(7, 5)).toBe(7);
  });

  it('with CreateTime timestamps (not monotonic) a segment behind the end claims nothing new (issue 12)', () => {
    // Offsets 0..2 archived in this segment; offset 3 (not archived yet) carries an EARLIER
    // producer timestamp than offset 2. Claiming offset 2's time would claim offset 3 too.
    const s = new PartitionState(0, -1, 5_000, [], false);
    s.observe(4);
    s.add(rec(0, 10_000), 0);
    s.add(rec(1, 40_000), 0);
    s.add(rec(2, 90_000), 0);
    const unarchivedTs = 20_000;
    const d = s.draft(100_000);
    expect(d.completeThrough).toBe(5_000);
    expect(d.completeThrough).toBeLessThan(unarchivedTs);
    // Once the segment reaches the end read at a known time, that time is claimed.
    s.add(rec(3, unarchivedTs), 0);
    expect(s.draft(100_000, 95_000).completeThrough).toBe(95_000);
  });

  it('is idle-caught-up only with nothing buffered and nothing unread', () => {
    const s = new PartitionState(0, 9, null);
    expect(s.idleCaughtUp(10)).toBe(true);
    expect(s.idleCaughtUp(11)).toBe(false);
    s.add(rec(10, 1), 0);
    expect(s.idleCaughtUp(11)).toBe(false);
  });
});

describe('archiver record classification', () => {
  const views = defaultViewSet();

  it('keeps a valid value byte for byte', () => {
    const v = '{"id":"a","ts":1700000000000,"type":"pageview","url":"/x","user":"u"}';
    expect(classifyRecord(Buffer.from(v), views)).toEqual({ ok: true, line: v });
  });

  it('turns line breaks of pretty-printed JSON into spaces, leaving the event the same', () => {
    const v = '{\r\n "id": "a",\n "ts": 1700000000000, "s": "x\\ny"\n}';
    const c = classifyRecord(Buffer.from(v), views);
    expect(c.ok && /[\r\n]/.test(c.line)).toBe(false);
    expect(c.ok && JSON.parse(c.line)).toEqual(JSON.parse(v));
  });

  it('reports invalid records with the shared reasons, a tombstone included', () => {
    expect(classifyRecord(null, views)).toMatchObject({ ok: false, reason: 'not_json' });
    expect(classifyRecord(Buffer.from('[1]'), views)).toMatchObject({ ok: false, reason: 'not_object' });
    expect(classifyRecord(Buffer.from('{"ts":1}'), views)).toMatchObject({ ok: false, reason: 'missing_id' });
    expect(classifyRecord(Buffer.from('{"id":"p","ts":1,"type":"purchase","amount":"ten"}'), views)).toMatchObject({ ok: false, reason: 'bad_field' });
  });

  it('dead-letters hostile records as bad_field instead of archiving them (limits, docs/design-decisions.md §2)', () => {
    const deep = `{"id":"d","ts":1,"x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(classifyRecord(Buffer.from(deep), views)).toMatchObject({ ok: false, reason: 'bad_field', message: expect.stringMatching(/^field "x" nests/) });
    const long = JSON.stringify({ id: 'l', ts: 1, type: 'pageview', url: 'u'.repeat(500_000) });
    expect(classifyRecord(Buffer.from(long), views)).toMatchObject({
      ok: false,
      reason: 'bad_field',
      message: expect.stringMatching(/^field "url" is 500000 characters long/),
    });
  });
});

describe('archiver resume decision', () => {
  const cp = { lastOffset: 99, completeThrough: 5_000 };

  it('resumes right after the checkpoint, skipping what Kafka re-delivers', () => {
    expect(resumeDecision(cp, 100, undefined)).toEqual({ kind: 'start', lastArchived: 99, completeThrough: 5_000, missing: null });
    expect(resumeDecision(cp, 40, undefined)).toEqual({ kind: 'start', lastArchived: 99, completeThrough: 5_000, missing: null });
  });

  it('seeks back when Kafka is ahead of the checkpoint, once', () => {
    expect(resumeDecision(cp, 150, undefined)).toEqual({ kind: 'seek', offset: 100 });
    // Still ahead after that seek: the log itself has no records there.
    expect(resumeDecision(cp, 150, 100)).toEqual({ kind: 'start', lastArchived: 99, completeThrough: 5_000, missing: [100, 149] });
  });

  it('starts a partition without checkpoint from offset 0, or from the first record Kafka still has', () => {
    expect(resumeDecision(undefined, 0, undefined)).toEqual({ kind: 'start', lastArchived: -1, completeThrough: null, missing: null });
    expect(resumeDecision(undefined, 70, undefined)).toEqual({ kind: 'seek', offset: 0 });
    // Offsets 0..69 are gone (retention): an archive gap, recorded in the checkpoint (issue 12).
    expect(resumeDecision(undefined, 70, 0)).toEqual({ kind: 'start', lastArchived: 69, completeThrough: null, missing: [0, 69] });
  });
});
