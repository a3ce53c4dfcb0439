/**
 * Lab experiment "pause": pause every speed consumer at runtime (admin), send N events and watch
 * the Kafka lag grow by N while the speed totals stand still, resume, wait until the consumers
 * caught up, and check that they applied exactly the N, each once (issue 20; exactly-once:
 * docs/design-decisions.md §6). The speed layer is resumed also when the experiment fails.
 */
import { floorTo } from '../../shared/time.js';
import type { LabApi } from '../lab-api.js';
import { sendEvents } from '../service-reads.js';
import { changeControl, readSpeed, sumOf, untilObeyed, viewsOfUrl, type SpeedView } from '../speed-control.js';
import { untilTrue } from '../wait.js';

export const PAUSE_EXPLANATION = [
  "Kafka keeps every event; the speed layer reads it and stores in Redis, atomically with each batch's increments, the offset it",
  'has applied up to. Paused (admin: PUT /api/v1/admin/speed/pause, obeyed by every speed instance), the consumers stop fetching:',
  'the events sent meanwhile wait in Kafka, the lag (partition end minus applied offset) grows by exactly their number, and the',
  'speed views stand still. Resumed, the consumers go on from the offsets stored in Redis: they catch up, and every event is',
  'applied once, none twice and none lost, because an apply only writes if the stored offset is still the one it was planned from.',
].join('\n');

export interface PauseResult {
  sent: number;
  /** the URL and minute of the sent pageviews (the series counts them apart from any other traffic) */
  url: string;
  minute: number;
  /** Kafka lag over every partition: when the consumers reported paused, with the N waiting, after the catch-up */
  lagAtPause: number;
  lagWhilePaused: number;
  lagAfter: number;
  /** events the speed layer applied while paused, and its offsets' movement (both 0) */
  appliedWhilePaused: number;
  offsetsMovedWhilePaused: number;
  /** events applied from the resume until caught up: the N, plus anything other producers sent meanwhile */
  appliedAfterResume: number;
  /** the sent events as the pageviews view counts them after the catch-up: N when each was applied once */
  counted: number;
  /** copies applied or skipped meanwhile (0: nothing was applied twice, nor taken for a copy) */
  duplicatesApplied: number;
  duplicatesSkipped: number;
  /** from the resume until every partition caught up, ms */
  catchUpMs: number;
}

const events = (v: SpeedView) => sumOf(v, (p) => p.totals?.events);
const offsets = (v: SpeedView) => sumOf(v, (p) => p.offset);
const lag = (v: SpeedView) => sumOf(v, (p) => p.lag);

export async function pauseResume(api: LabApi, opts: { count: number; timeoutMs?: number; log?: (line: string) => void }): Promise<PauseResult> {
  const log = opts.log ?? (() => undefined);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  log('pausing every speed consumer');
  // Outside the try: a refused pause (no admin token) has nothing to undo.
  const paused = await changeControl(api, { paused: true });
  let resumed = false;
  const resume = async () => {
    resumed = true;
    return changeControl(api, { paused: false });
  };
  try {
    // Paused, with a lag measured against the partition ends (refreshed while paused).
    const atPause = await untilObeyed(api, paused, (c, p) => c.paused && p.lag !== undefined, {
      what: "every partition's consumer to report paused",
      timeoutMs,
    });
    const now = Date.now();
    const minute = floorTo(now, 'minute');
    const run = `pause-${now.toString(36)}`;
    const url = `/lab/${run}`;
    const lines = Array.from({ length: opts.count }, (_, i) =>
      JSON.stringify({ id: `${run}-${i}`, ts: Math.max(minute, now - i), type: 'pageview', url, user: `${run}-u${i % 50}` }),
    );
    log(`paused at a lag of ${lag(atPause)}: sending ${opts.count} pageviews; the lag is to grow by ${opts.count}, the speed totals to stand still`);
    await sendEvents(api, lines);
    let whilePaused = atPause;
    await untilTrue(
      async () => {
        whilePaused = await readSpeed(api);
        return whilePaused.partitions.every((p) => p.lag !== undefined) && lag(whilePaused) >= lag(atPause) + opts.count;
      },
      { what: `the lag to grow by ${opts.count}`, timeoutMs, everyMs: 250 },
    );
    log(`lag ${lag(atPause)} -> ${lag(whilePaused)}, events applied meanwhile: ${events(whilePaused) - events(atPause)}; resuming`);
    const resumedAt = Date.now();
    const version = await resume();
    const target = offsets(atPause) + opts.count;
    const after = await untilObeyed(api, version, (c, p) => !c.paused && p.caughtUp === true, {
      what: "every partition's consumer to resume and catch up",
      timeoutMs,
    });
    if (offsets(after) < target) throw new Error(`caught up at offsets ${offsets(after)}, below the ${target} the sent events reach`);
    const catchUpMs = Date.now() - resumedAt;
    let counted = { views: 0, source: null as string | null };
    await untilTrue(
      async () => {
        counted = await viewsOfUrl(api, url, minute);
        return counted.views >= opts.count;
      },
      { what: `the series to count the ${opts.count} pageviews`, timeoutMs: 10_000 },
    ).catch(() => undefined); // reported as counted, below N
    return {
      sent: opts.count,
      url,
      minute,
      lagAtPause: lag(atPause),
      lagWhilePaused: lag(whilePaused),
      lagAfter: lag(after),
      appliedWhilePaused: events(whilePaused) - events(atPause),
      offsetsMovedWhilePaused: offsets(whilePaused) - offsets(atPause),
      appliedAfterResume: events(after) - events(whilePaused),
      counted: counted.views,
      duplicatesApplied: sumOf(after, (p) => p.totals?.duplicatesApplied) - sumOf(atPause, (p) => p.totals?.duplicatesApplied),
      duplicatesSkipped: sumOf(after, (p) => p.totals?.duplicatesSkipped) - sumOf(atPause, (p) => p.totals?.duplicatesSkipped),
      catchUpMs,
    };
  } finally {
    // The lab leaves the service as it found it: running, also after a failure.
    if (!resumed) await resume().catch(() => undefined);
  }
}
