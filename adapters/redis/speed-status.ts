/**
 * The speed layer's status as the serving layer reads it (another process wrote it): per partition
 * the authoritative offset and coverage from the partition state, the consumer's last report (end
 * of the partition, newest event time, who, when) judged fresh or stale, and the running totals.
 */
import { SPEED_TOTAL_FIELDS, type LostRange, type SpeedTotals } from '../../shared/speed/apply.js';
import type { SpeedStatus } from '../../shared/ports.js';
import { redisCall } from './client.js';
import type { ControlReport, SpeedControl } from '../../shared/speed/control.js';
import {
  KEPT_REPLAYS,
  LAYOUT_VERSION,
  TOPIC_PARTITIONS_FIELD,
  partitionStateKey,
  reasonOfInvalidField,
  speedControlKey,
  speedReplaysKey,
  speedStatusField,
  speedStatusKey,
} from './keys.js';
import type { RedisClient } from './scripts.js';
import { parseControl } from './speed-control.js';
import type { PartitionReport } from './speed-state-store.js';
import type { ReplayRecord } from '../../shared/speed/ports.js';

export interface SpeedPartitionStatus {
  partition: number;
  /** next offset to apply (authoritative, from the partition state) */
  offset: number;
  /** records behind the partition end; absent when unknown (no fresh report of the end) */
  lag?: number;
  /** partition end at the consumer's last report; null if never reported */
  highWatermark: number | null;
  coveredSince: number;
  maxEventTs: number | null;
  /** when the consumer last reported this partition (epoch ms); null if it never did */
  updatedAt: number | null;
  /** now - updatedAt; null if never reported */
  reportAgeMs: number | null;
  /** no report for longer than the stale limit: the consumer died or left the group */
  stale: boolean;
  /** applied everything up to the last reported end, and the report is fresh; null when unknown */
  caughtUp: boolean | null;
  /** the consumer that last reported this partition */
  instance: string | null;
  /** the runtime control that consumer obeys (issue 20); absent when its report has none */
  control?: ControlReport;
  /** invalidByReason: `invalid` by reason (records sent to the DLQ), exactly once like the other totals */
  totals: SpeedTotals & { lostOffsets: number; invalidByReason: Record<string, number> };
  /** the last range Kafka deleted before the speed layer read it (retention), if any */
  lastLost: LostRange | null;
}

export interface RedisSpeedStatus extends SpeedStatus {
  partitions: SpeedPartitionStatus[];
  /** partitions of the topic as the consumer last saw them; null before the first start */
  topicPartitions: number | null;
  /** now minus the newest event time applied, ms */
  eventTimeLagMs: number | null;
  /** the last times a consumer found Redis behind what it had applied and replayed from Kafka, newest first */
  replays: ReplayRecord[];
  /** the runtime control as stored (what every instance is to obey) */
  control: SpeedControl;
}

/** A partition's report older than this reads as stale (the reporter writes every 2 s by default). */
export const DEFAULT_STATUS_STALE_MS = 15_000;

export async function readSpeedStatus(
  redis: RedisClient,
  prefix: string,
  partitions: readonly number[],
  staleMs = DEFAULT_STATUS_STALE_MS,
): Promise<RedisSpeedStatus> {
  const [statusHash, states, replayList, controlHash] = await redisCall('read speed status', () =>
    Promise.all([
      redis.hgetall(speedStatusKey(prefix)),
      Promise.all(partitions.map((p) => redis.hgetall(partitionStateKey(prefix, p)))),
      redis.lrange(speedReplaysKey(prefix), 0, KEPT_REPLAYS - 1),
      redis.hgetall(speedControlKey(prefix)),
    ]),
  );
  const now = Date.now();
  const topicPartitions = statusHash[TOPIC_PARTITIONS_FIELD] === undefined ? null : Number(statusHash[TOPIC_PARTITIONS_FIELD]);
  const list: SpeedPartitionStatus[] = [];
  partitions.forEach((partition, i) => {
    const st = states[i] ?? {};
    if (st.next === undefined || st.layout !== String(LAYOUT_VERSION)) return;
    const progress = parseJsonField<PartitionReport>(statusHash[speedStatusField(partition)]);
    const offset = Number(st.next);
    const reportAgeMs = progress === null ? null : Math.max(0, now - progress.updatedAt);
    const stale = reportAgeMs === null || reportAgeMs > staleMs;
    const hw = progress?.highWatermark ?? null;
    // A lag is only as good as the end it was measured against: unknown when the end was never
    // reported or the report is stale (the partition may have grown since), never shown as 0.
    const lag = hw === null || stale ? undefined : Math.max(0, hw - offset);
    const totals = { lostOffsets: Number(st.lostOffsets ?? 0), invalidByReason: {} } as SpeedPartitionStatus['totals'];
    for (const f of SPEED_TOTAL_FIELDS) totals[f] = Number(st[f] ?? 0);
    for (const [field, value] of Object.entries(st)) {
      const reason = reasonOfInvalidField(field);
      if (reason !== null) totals.invalidByReason[reason] = Number(value);
    }
    const control = controlOf(progress);
    list.push({
      partition,
      offset,
      ...(lag === undefined ? {} : { lag }),
      highWatermark: hw,
      coveredSince: Number(st.coveredSince ?? 0),
      maxEventTs: progress?.maxEventTs ?? null,
      updatedAt: progress?.updatedAt ?? null,
      reportAgeMs,
      stale,
      caughtUp: lag === undefined ? (stale && progress !== null ? false : null) : lag === 0,
      instance: progress?.instance ?? null,
      ...(control ? { control } : {}),
      totals,
      lastLost: parseJsonField<LostRange>(st.lastLost),
    });
  });
  const expected = topicPartitions ?? list.length;
  const complete = list.length > 0 && list.length >= expected && Array.from({ length: expected }, (_, p) => list.some((s) => s.partition === p)).every(Boolean);
  const maxEventTs = list.reduce<number | null>((m, s) => (s.maxEventTs !== null && (m === null || s.maxEventTs > m) ? s.maxEventTs : m), null);
  return {
    // Views are complete from the latest partition's coverage; unknown while a partition has none.
    coveredSince: complete ? Math.max(...list.map((s) => s.coveredSince)) : null,
    partitions: list,
    lateArrivals: list.reduce((n, s) => n + s.totals.late, 0),
    topicPartitions,
    eventTimeLagMs: maxEventTs === null ? null : Math.max(0, now - maxEventTs),
    replays: replayList.map((r) => parseJsonField<ReplayRecord>(r)).filter((r): r is ReplayRecord => r !== null),
    control: parseControl(controlHash),
  };
}

/** The control fields of a consumer's report, when it has them all (reports of older versions have none). */
function controlOf(p: PartitionReport | null): ControlReport | undefined {
  if (p === null || typeof p.dedupe !== 'boolean' || typeof p.paused !== 'boolean' || typeof p.controlVersion !== 'number' || p.dedupeFrom === undefined)
    return undefined;
  return { dedupe: p.dedupe, dedupeFrom: p.dedupeFrom, paused: p.paused, controlVersion: p.controlVersion };
}

/** A JSON field the speed layer wrote (progress, a lost range); null when absent or unreadable. */
function parseJsonField<T>(raw: string | undefined): T | null {
  if (raw === undefined) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}
