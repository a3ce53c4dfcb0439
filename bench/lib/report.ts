/**
 * What a bench run produces: bench/results.json (every measurement, raw runs included) and
 * bench/results.md (the tables the README shows). A goal that is missed is shown as missed, with
 * the distance to it; nothing in here decides pass or fail for anything else.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineInfo } from './machine.js';
import type { Summary } from './stats.js';

export interface Table {
  title: string;
  columns: string[];
  rows: string[][];
  notes: string[];
}

export interface Goal {
  goal: string;
  target: string;
  measured: string;
  /** null when it was not measured in this run (e.g. --only) */
  met: boolean | null;
  distance: string;
}

export interface SectionResult {
  tables: Table[];
  goals: Goal[];
  /** everything measured, for results.json */
  data: unknown;
}

export interface BenchResults {
  command: string;
  mode: 'full' | 'quick';
  sections: string[];
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  machine: MachineInfo;
  loadAverageAtEnd: number;
  goals: Goal[];
  tables: Table[];
  data: Record<string, unknown>;
}

const num = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function fmtRate(perSec: number): string {
  return `${num.format(perSec)}/s`;
}

export function fmtMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${num.format(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
}

export function fmtMiB(bytes: number): string {
  return `${num.format(bytes / 2 ** 20)} MiB`;
}

export function fmtCount(n: number): string {
  return num.format(n);
}

/** "median (min-max, n runs)" */
export function fmtSummary(s: Summary, fmt: (v: number) => string): string {
  if (s.runs === 1) return `${fmt(s.median)} (1 run)`;
  return `${fmt(s.median)} (${fmt(s.min)} to ${fmt(s.max)}, ${s.runs} runs)`;
}

/** A goal of the form "measured >= target" (or <= when lowerIsBetter), with the distance in percent. */
export function goal(name: string, target: number, measured: number | null, fmt: (v: number) => string, lowerIsBetter = false): Goal {
  const targetText = `${lowerIsBetter ? '<' : '>='} ${fmt(target)}`;
  if (measured === null || !Number.isFinite(measured)) return { goal: name, target: targetText, measured: 'not measured', met: null, distance: '' };
  const met = lowerIsBetter ? measured < target : measured >= target;
  const pct = ((measured - target) / target) * 100;
  let distance: string;
  if (met) distance = lowerIsBetter ? `met, ${Math.abs(pct).toFixed(0)}% under` : `met, ${pct.toFixed(0)}% over`;
  else if (lowerIsBetter) distance = pct > 100 ? `missed: ${(measured / target).toFixed(1)}x the limit` : `missed: ${pct.toFixed(0)}% over the limit`;
  else distance = `missed: ${(-pct).toFixed(0)}% short, ${(measured / target).toFixed(2)}x of the goal`;
  return { goal: name, target: targetText, measured: fmt(measured), met, distance };
}

function mdTable(t: Table): string {
  const esc = (c: string) => c.replaceAll('|', '\\|');
  const lines = [
    `| ${t.columns.map(esc).join(' | ')} |`,
    `| ${t.columns.map(() => '---').join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ];
  const notes = t.notes.map((n) => `- ${n}`);
  return [`### ${t.title}`, '', ...lines, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

export function toMarkdown(r: BenchResults): string {
  const m = r.machine;
  const goals: Table = {
    title: 'Goals (this 2-core machine)',
    columns: ['goal', 'target', 'measured (median)', 'result'],
    rows: r.goals.map((g) => [
      g.goal,
      g.target,
      g.measured,
      g.met === null ? 'not measured' : g.met ? `**met** (${g.distance})` : `**missed** (${g.distance.replace(/^missed: /, '')})`,
    ]),
    notes: [],
  };
  return [
    `## Benchmark results (${r.mode}${r.sections.length < 3 ? `, only ${r.sections.join(', ')}` : ''})`,
    '',
    `\`${r.command}\`, ${r.startedAt.replace('T', ' ').slice(0, 19)} UTC, ${Math.round(r.durationSeconds / 60)} min.`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB memory, Node ${m.node}, ${m.os}; ` +
      `Redis ${m.redisVersion ?? '?'}, Kafka ${m.kafkaVersion ?? '?'}, DuckDB ${m.duckdbVersion ?? 'not run'}. ` +
      `Load average at start ${m.loadAverageAtStart.join(' / ')} (1/5/15 min), at the end ${r.loadAverageAtEnd}: ` +
      'the machine is shared with other engineers running tests, so every number is "on a busy machine"; each table names the load when it was measured.',
    '',
    mdTable(goals),
    '',
    ...r.tables.flatMap((t) => [mdTable(t), '']),
  ].join('\n');
}

export function writeResults(dir: string, r: BenchResults): { md: string; json: string } {
  const md = join(dir, 'results.md');
  const json = join(dir, 'results.json');
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(md, `${toMarkdown(r)}\n`);
  return { md, json };
}
