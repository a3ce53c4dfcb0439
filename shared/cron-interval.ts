/**
 * The longest time between two fires of a cron schedule (the batch layer's LAMBDA_BATCH_CRON),
 * so the speed layer can keep its keys for "two batch periods" (docs/design-decisions.md §6) without a second
 * setting that could disagree with the schedule.
 *
 * Supports what node-cron accepts in practice: 5 fields (minute hour day-of-month month
 * day-of-week) or 6 (seconds first); `*`, `?`, numbers, names (jan..dec, sun..sat), ranges `a-b`,
 * steps `*\/n`, `a-b/n`, `a/n`, and lists. Day-of-month and day-of-week combine as in Vixie cron:
 * when both are restricted, a day matches either. Computed in UTC, the zone the batch scheduler
 * runs its cron in, so there are no daylight-saving jumps to model.
 */
import { LambdaError } from './errors.js';

const DAY_S = 86_400;
/** The Gregorian calendar repeats (weekdays and leap years) every 400 years = 146 097 days. */
const CYCLE_DAYS = 146_097;
const CYCLE_START = Date.UTC(2000, 0, 1);

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** first name maps to this number */
  nameBase?: number;
}

const SECOND: FieldSpec = { name: 'second', min: 0, max: 59 };
const MINUTE: FieldSpec = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { name: 'hour', min: 0, max: 23 };
const DOM: FieldSpec = { name: 'day of month', min: 1, max: 31 };
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 };
const DOW: FieldSpec = { name: 'day of week', min: 0, max: 7, names: WEEKDAYS, nameBase: 0 };

function invalid(expr: string, why: string): LambdaError {
  return new LambdaError('CONFIG_INVALID', `cron expression "${expr}": ${why}`);
}

function parseValue(raw: string, spec: FieldSpec, expr: string): number {
  const named = spec.names?.indexOf(raw.toLowerCase()) ?? -1;
  const n = named >= 0 ? named + (spec.nameBase ?? 0) : /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < spec.min || n > spec.max) throw invalid(expr, `${spec.name} value "${raw}" is not in ${spec.min}-${spec.max}`);
  return n;
}

/** One field -> the sorted set of values it allows. */
export function parseCronField(field: string, spec: FieldSpec, expr: string): number[] {
  const out = new Set<number>();
  for (const item of field.split(',')) {
    const [range = '', stepText, extra] = item.split('/');
    if (extra !== undefined || range === '') throw invalid(expr, `bad ${spec.name} item "${item}"`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw invalid(expr, `bad step in ${spec.name} item "${item}"`);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = spec.min;
      hi = spec.max;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      lo = parseValue(a, spec, expr);
      hi = parseValue(b, spec, expr);
      if (hi < lo) throw invalid(expr, `${spec.name} range "${range}" runs backwards`);
    } else {
      lo = parseValue(range, spec, expr);
      hi = stepText === undefined ? lo : spec.max;
    }
    for (let v = lo; v <= hi; v += step) out.add(spec === DOW && v === 7 ? 0 : v);
  }
  return [...out].sort((a, b) => a - b);
}

/** Longest gap, in ms, between consecutive fires of `expr` (UTC). Throws if it never fires. */
export function maxCronIntervalMs(expr: string): number {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) throw invalid(expr, `expected 5 or 6 fields, got ${fields.length}`);
  const [sec, min, hour, dom, month, dow] = (fields.length === 6 ? fields : ['0', ...fields]) as [string, string, string, string, string, string];
  const seconds = parseCronField(sec, SECOND, expr);
  const minutes = parseCronField(min, MINUTE, expr);
  const hours = parseCronField(hour, HOUR, expr);
  const doms = new Set(parseCronField(dom, DOM, expr));
  const months = new Set(parseCronField(month, MONTH, expr));
  const dows = new Set(parseCronField(dow, DOW, expr));
  const domAny = dom === '*' || dom === '?';
  const dowAny = dow === '*' || dow === '?';

  // Fire times within a day (seconds of day), sorted: the same on every firing day.
  const times: number[] = [];
  for (const h of hours) for (const m of minutes) for (const s of seconds) times.push(h * 3600 + m * 60 + s);
  let gapS = 0;
  for (let i = 1; i < times.length; i++) gapS = Math.max(gapS, (times[i] as number) - (times[i - 1] as number));
  const first = times[0] as number;
  const last = times[times.length - 1] as number;

  let firstDay = -1;
  let prevDay = -1;
  for (let d = 0; d < CYCLE_DAYS; d++) {
    const date = new Date(CYCLE_START + d * DAY_S * 1000);
    if (!months.has(date.getUTCMonth() + 1)) continue;
    const domOk = doms.has(date.getUTCDate());
    const dowOk = dows.has(date.getUTCDay());
    const fires = domAny && dowAny ? true : domAny ? dowOk : dowAny ? domOk : domOk || dowOk;
    if (!fires) continue;
    if (firstDay < 0) firstDay = d;
    if (prevDay >= 0) gapS = Math.max(gapS, (d - prevDay) * DAY_S + first - last);
    prevDay = d;
  }
  if (firstDay < 0) throw invalid(expr, 'it never fires');
  // Wrap around the 400-year cycle: the last firing day to the first one of the next cycle.
  gapS = Math.max(gapS, (firstDay + CYCLE_DAYS - prevDay) * DAY_S + first - last);
  return gapS * 1000;
}
