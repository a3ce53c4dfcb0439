/**
 * Backfill and batch from the command line, as an operator runs them: `lambda-arch import FILE`
 * with bad lines exits 3 with a JSON report (alone on stdout) naming each bad line by number, and
 * the master dataset then holds exactly the valid lines; `lambda-arch batch run` computes a run from
 * them; a second `batch run` while one is in flight is refused with BATCH_RUNNING.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openMasterDataset } from '../../adapters/master/index.js';
import { silentLogger } from '../../platform/logger.js';
import { cliEnvironment, hasStackTrace, killAllCli, runCli, startCli, type CliEnvironment } from '../support/cli-process.js';
import { readMaster } from '../support/master-read.js';
import { waitUntil } from '../support/wait.js';

const LINES = 300;
const DAY = 86_400_000;
/** line number (1-based) -> the bad line and the reason the report must give */
const BAD = new Map<number, [string, string]>([
  [3, ['{"id": "broken', 'not_json']],
  [57, [JSON.stringify({ ts: 1_700_000_000_000, type: 'pageview', url: '/p/1', user: 'u1' }), 'missing_id']],
  [200, [JSON.stringify({ id: 'bad-ts', ts: 'last tuesday', type: 'pageview', url: '/p/1', user: 'u1' }), 'bad_ts']],
  [299, ['', 'not_json']],
]);
const DUPLICATE_OF = new Map([[150, 10]]); // line 150 repeats line 10 (same id, same content)

function historyLines(): string[] {
  const start = Date.now() - 3 * DAY;
  const event = (n: number) =>
    JSON.stringify({ id: `hist-${n}`, ts: start + n * 60_000, type: 'pageview', url: `/p/${n % 5}`, user: `u${n % 17}`, country: 'SE' });
  return Array.from({ length: LINES }, (_, k) => {
    const n = k + 1;
    return BAD.get(n)?.[0] ?? event(DUPLICATE_OF.get(n) ?? n);
  });
}

interface ImportReport {
  linesRead: number;
  imported: number;
  invalidCount: number;
  invalid: { line: number; reason: string; message: string }[];
  topic: string;
}

describe('lambda-arch import and batch run', () => {
  let cli: CliEnvironment;
  const lines = historyLines();
  const valid = lines.filter((_, k) => !BAD.has(k + 1));

  beforeAll(async () => {
    cli = await cliEnvironment({ LAMBDA_BATCH_CRON: '0 0 1 1 *' });
  });
  afterEach(killAllCli);
  afterAll(async () => {
    await killAllCli();
    await cli.cleanup();
  });

  it('import exits 3 with a JSON report naming the bad lines; the master dataset holds exactly the valid lines', async () => {
    const file = join(cli.dataDir, 'history.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await runCli(['import', file], cli.env);
    expect(r.code, r.stderr).toBe(3);
    const report = JSON.parse(r.stdout) as ImportReport; // the report alone: logs and progress go to stderr
    expect(report).toMatchObject({ linesRead: LINES, imported: LINES - BAD.size, invalidCount: BAD.size });
    expect(report.invalid.map((i) => [i.line, i.reason])).toEqual([...BAD].map(([line, [, reason]]) => [line, reason]));
    expect(hasStackTrace(r.stderr)).toBe(false);

    const master = openMasterDataset(cli.config, silentLogger());
    const contents = await readMaster(master);
    expect([...contents.lines.keys()]).toEqual([`${report.topic}-0`]);
    expect(contents.lines.get(`${report.topic}-0`)).toEqual(valid);
  });

  it('batch run exits 0 and prints the run it published, counting what it read', async () => {
    const r = await runCli(['batch', 'run'], cli.env);
    expect(r.code, r.stderr).toBe(0);
    const run = JSON.parse(r.stdout) as {
      runId: string;
      watermark: string;
      counts: { files: number; eventsRead: number; duplicates: number; eventsKept: number };
    };
    expect(run.runId).toMatch(/\S/);
    expect(Number.isNaN(Date.parse(run.watermark))).toBe(false);
    expect(run.counts).toMatchObject({ files: 1, eventsRead: valid.length, duplicates: DUPLICATE_OF.size, eventsKept: valid.length - DUPLICATE_OF.size });
  });

  it('a second batch run while one is in flight exits non-zero with BATCH_RUNNING; the first completes', async () => {
    const slow = startCli(['batch', 'run'], { ...cli.env, LAMBDA_BATCH_FILE_DELAY_MS: '8000' });
    await waitUntil(
      () => slow.stderr,
      (s) => s.includes('"msg":"batch run started"'),
      { what: 'the first batch run to take the lease', timeoutMs: 30_000 },
    );
    const second = await runCli(['batch', 'run'], cli.env);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain('BATCH_RUNNING');
    expect(hasStackTrace(second.stderr)).toBe(false);
    expect(second.stdout).toBe('');
    const first = await slow.wait(60_000);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ counts: { eventsRead: valid.length } });
  });
});
