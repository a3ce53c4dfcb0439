/**
 * `lambda-arch generate` run as a user runs it: a seeded, reproducible stream to a JSONL file (the
 * same --seed and --start-ts give the same file, byte for byte, and the same records as the
 * in-process generator), fresh event ids on every run without --seed, and the same stream into Kafka.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generatorOptions } from '../../cli/commands/generate.js';
import { clickstream, type GeneratedRecord } from '../../shared/generator/clickstream.js';
import { readWholeTopic, testKafka } from '../support/archiver-kafka.js';
import { cliEnvironment, killAllCli, runCli, type CliEnvironment } from '../support/cli-process.js';

const START_TS = '1767225600000'; // 2026-01-01T00:00:00Z

/** The first `n` records the generator gives in-process for these command-line values. */
function expectedStream(values: Record<string, string>, n: number): string[] {
  const out: string[] = [];
  for (const r of clickstream(generatorOptions(values)) as Generator<GeneratedRecord>) {
    out.push(r.value);
    if (out.length === n) break;
  }
  return out;
}

function ids(lines: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const l of lines) {
    try {
      const id = (JSON.parse(l) as { id?: unknown }).id;
      if (typeof id === 'string') out.add(id);
    } catch {
      /* an invalid record of the stream */
    }
  }
  return out;
}

describe('lambda-arch generate', () => {
  let cli: CliEnvironment;
  const file = (name: string) => join(cli.dataDir, name);
  const lines = (name: string) =>
    readFileSync(file(name), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  const generate = async (out: string, extra: string[]) => {
    const r = await runCli(['generate', '--count', '100', '--no-kafka', '--no-pace', '--out', file(out), ...extra], cli.env);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { sent: number; event: number; late: number; duplicate: number; invalid: number; seed: number; out: string };
  };

  beforeAll(async () => {
    cli = await cliEnvironment();
  });
  afterEach(killAllCli);
  afterAll(async () => {
    await killAllCli();
    await cli.cleanup();
  });

  it('writes --count lines to --out, the same file for the same --seed and another for another seed', async () => {
    const a = await generate('a.jsonl', ['--seed', '7', '--start-ts', START_TS]);
    expect(a).toMatchObject({ sent: 100, seed: 7, out: file('a.jsonl') });
    expect(a.event + a.late + a.duplicate + a.invalid).toBe(100);
    await generate('b.jsonl', ['--seed', '7', '--start-ts', START_TS]);
    await generate('c.jsonl', ['--seed', '8', '--start-ts', START_TS]);
    expect(lines('a.jsonl')).toHaveLength(100);
    expect(readFileSync(file('b.jsonl'), 'utf8')).toBe(readFileSync(file('a.jsonl'), 'utf8'));
    expect(lines('c.jsonl')).toHaveLength(100);
    expect(lines('c.jsonl')).not.toEqual(lines('a.jsonl'));
    // The file is the seeded stream itself, so the truth can be recomputed without the file.
    expect(lines('a.jsonl')).toEqual(expectedStream({ seed: '7', 'start-ts': START_TS }, 100));
  });

  it('without --seed, each run picks a new seed (reported), so two runs never repeat an event id', async () => {
    const first = await generate('d.jsonl', []);
    const second = await generate('e.jsonl', []);
    expect(first.seed).not.toBe(second.seed);
    const common = [...ids(lines('d.jsonl'))].filter((id) => ids(lines('e.jsonl')).has(id));
    expect(common).toEqual([]);
  });

  it('sends the same seeded stream to the events topic', async () => {
    const r = await runCli(['generate', '--count', '300', '--no-pace', '--seed', '3', '--start-ts', START_TS], cli.env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sent: 300, topic: cli.config.kafka.topic, out: null });
    const topic = await readWholeTopic(testKafka(cli.config.kafka.brokers), cli.config.kafka.topic);
    const sorted = (xs: (string | null)[]) => [...xs].sort();
    expect(sorted(topic.map((t) => t.value))).toEqual(sorted(expectedStream({ seed: '3', 'start-ts': START_TS }, 300)));
  });
});
