/** Backfill of a JSONL file straight into a real (local) master dataset. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMasterDataset } from '../../adapters/master/index.js';
import { arrivalComplete } from '../../shared/master/arrival-complete.js';
import { isImportTopic } from '../../shared/master/layout.js';
import { importJsonl, MAX_LISTED_INVALID, type ImportProgress } from '../../batch-layer/import/index.js';
import { silentLogger } from '../../platform/logger.js';
import { isLambdaError } from '../../shared/errors.js';
import type { MasterDataset } from '../../shared/ports.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { readMaster } from '../support/master-read.js';

const views = defaultViewSet();
const HOUR = 3_600_000;

function event(i: number): string {
  return JSON.stringify({ id: `h-${i}`, ts: 1_700_000_000_000 + i * 1000, type: 'pageview', url: `/p/${i % 7}`, user: `u${i % 13}` });
}

/** 3000 lines; bad lines at known places, each with the reason it must be reported with. */
function historyFile(): { lines: string[]; bad: Map<number, string> } {
  const bad = new Map<number, string>([
    [2, 'not_json'],
    [500, 'missing_id'],
    [501, 'bad_ts'],
    [1234, 'bad_field'],
    [2000, 'not_object'],
    [2999, 'not_json'], // a blank line
  ]);
  const lines = Array.from({ length: 3000 }, (_, k) => {
    const n = k + 1;
    switch (bad.get(n)) {
      case 'not_json':
        return n === 2999 ? '' : '{"id": "broken';
      case 'missing_id':
        return JSON.stringify({ ts: 1 });
      case 'bad_ts':
        return JSON.stringify({ id: 'x', ts: 'yesterday' });
      case 'bad_field':
        return JSON.stringify({ id: 'p', ts: 1, type: 'purchase', country: 'US', amount: 'ten' });
      case 'not_object':
        return '"just a string"';
      default:
        return event(n);
    }
  });
  return { lines, bad };
}

describe('importJsonl', () => {
  let dir: string;
  let master: MasterDataset;
  let file: string;
  let expected: string[];
  let bad: Map<number, string>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'import-test-'));
    master = openMasterDataset({ masterUrl: `file://${dir}/master` }, silentLogger());
    const h = historyFile();
    bad = h.bad;
    file = join(dir, 'history.jsonl');
    // A BOM and CRLF line ends, as files from other tools have.
    writeFileSync(file, `\uFEFF${h.lines.join('\r\n')}\r\n`);
    expected = h.lines.filter((_, k) => !bad.has(k + 1));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('imports the valid lines in order and reports every bad line by number and reason', async () => {
    const progress: ImportProgress[] = [];
    const report = await importJsonl(file, master, views, { segmentLines: 500, onProgress: (p) => progress.push(p) });
    expect(report).toMatchObject({ linesRead: 3000, imported: 3000 - bad.size, invalidCount: bad.size, segments: 6 });
    expect(report.invalid.map((i) => [i.line, i.reason])).toEqual([...bad]);
    expect(report.invalid.every((i) => i.message.length > 0)).toBe(true);
    expect(isImportTopic(report.topic)).toBe(true);

    const { files, lines } = await readMaster(master);
    expect(lines.get(`${report.topic}-0`)).toEqual(expected);
    // Segments cover fixed ranges of source lines: 1..500, 501..1000, ...
    expect(files.map((f) => f.firstOffset)).toEqual([1, 501, 1001, 1501, 2001, 2501]);

    expect(progress.at(-1)).toEqual({ bytesRead: readFileSync(file).length, totalBytes: readFileSync(file).length, lines: 3000 });
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.bytesRead).toBeGreaterThanOrEqual(progress[i - 1]!.bytesRead);

    // Its checkpoint marks the import complete, and does not count in arrivalComplete.
    const cps = await master.readCheckpoints();
    expect(cps).toEqual([{ topic: report.topic, partition: 0, lastOffset: 3000, completeThrough: report.arrivalTs, updatedAt: expect.any(Number) }]);
    expect(arrivalComplete(cps, { topic: 'events', partitions: 1 })).toBeNull();
  });

  it('is idempotent: importing the same file again, even hours later, writes the same files', async () => {
    let clock = Date.UTC(2024, 0, 1, 10, 30);
    const first = await importJsonl(file, master, views, { segmentLines: 700, now: () => clock });
    const before = await master.listFiles();
    const bytes = before.map((f) => readFileSync(join(dir, 'master', f.key)));

    clock += 5 * HOUR;
    const again = await importJsonl(file, master, views, { segmentLines: 700, now: () => clock });
    expect({ ...again, file: '' }).toEqual({ ...first, file: '' });
    const after = await master.listFiles();
    expect(after).toEqual(before);
    after.forEach((f, i) => expect(readFileSync(join(dir, 'master', f.key)).equals(bytes[i]!)).toBe(true));
    expect((await readMaster(master)).total).toBe(expected.length);
  });

  it('completes an interrupted import under the same names', async () => {
    const clock = Date.UTC(2024, 0, 1, 10, 30);
    const full = await importJsonl(file, master, views, { segmentLines: 400, now: () => clock });
    const files = await master.listFiles();
    // As if the process had died after the third segment: later segments and the checkpoint missing.
    for (const f of files.slice(3)) await rm(join(dir, 'master', f.key));
    await rm(join(dir, 'master', 'checkpoints'), { recursive: true });
    const resumed = await importJsonl(file, master, views, { segmentLines: 400, now: () => clock + 3 * HOUR });
    expect(resumed.arrivalTs).toBe(Date.UTC(2024, 0, 1, 10)); // the hour the first run chose
    expect(await master.listFiles()).toEqual(files);
    expect(resumed.imported).toBe(full.imported);
    expect((await readMaster(master)).lines.get(`${full.topic}-0`)).toEqual(expected);
  });

  it('lists at most 1000 bad lines and counts the rest', async () => {
    const many = join(dir, 'many-bad.jsonl');
    writeFileSync(many, `${Array.from({ length: 1500 }, (_, i) => (i % 2 === 0 ? 'nope' : event(i))).join('\n')}\n`);
    const report = await importJsonl(many, master, views);
    expect(report.invalidCount).toBe(750);
    expect(report.invalid).toHaveLength(Math.min(750, MAX_LISTED_INVALID));
    const few = join(dir, 'worse.jsonl');
    writeFileSync(few, `${Array.from({ length: 1200 }, () => 'nope').join('\n')}\n`);
    const worse = await importJsonl(few, master, views);
    expect(worse).toMatchObject({ invalidCount: 1200, imported: 0, segments: 0 });
    expect(worse.invalid).toHaveLength(MAX_LISTED_INVALID);
    expect(worse.invalid.at(-1)?.line).toBe(MAX_LISTED_INVALID);
  });

  it('files different content under a different pseudo topic', async () => {
    const a = await importJsonl(file, master, views);
    const other = join(dir, 'other.jsonl');
    writeFileSync(other, `${event(1)}\n${event(2)}\n`);
    const b = await importJsonl(other, master, views);
    expect(b.topic).not.toBe(a.topic);
    expect((await readMaster(master)).lines.get(`${b.topic}-0`)).toEqual([event(1), event(2)]);
  });

  it('reports a missing file as NOT_FOUND', async () => {
    let err: unknown;
    try {
      await importJsonl(join(dir, 'nope.jsonl'), master, views);
    } catch (e) {
      err = e;
    }
    expect(isLambdaError(err) && err.code).toBe('NOT_FOUND');
  });
});
