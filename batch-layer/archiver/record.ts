/** What the archiver does with one Kafka record: a line for the master dataset, or a dead letter. */
import { parseEventLine, type InvalidReason } from '../../shared/events.js';
import type { ConsumedMessage } from '../../shared/kafka-ports.js';
import type { ViewSet } from '../../shared/views/definition.js';
import type { ConsumedRecord } from './partition-state.js';

export type Classified = { ok: true; line: string } | { ok: false; reason: InvalidReason; message: string };

/**
 * Validates with the same rules as every other layer (shared/events.ts). A valid value is kept as
 * received, with one exception: a line break. In valid JSON a CR or LF can only be insignificant
 * whitespace (inside strings they must be escaped), so replacing each with a space keeps the parsed
 * event identical while keeping the "one record per line" contract of the JSONL segment.
 */
export function classifyRecord(value: Buffer | null, views: ViewSet): Classified {
  const text = value === null ? '' : value.toString('utf8');
  const parsed = parseEventLine(text, views);
  if (!parsed.ok) return { ok: false, reason: parsed.reason, message: parsed.message };
  return { ok: true, line: /[\r\n]/.test(text) ? text.replace(/[\r\n]/g, ' ') : text };
}

export function toConsumedRecord(topic: string, partition: number, m: ConsumedMessage, views: ViewSet): ConsumedRecord {
  const offset = Number(m.offset);
  const ts = Number(m.timestamp);
  // A missing or negative timestamp (old message format) files the segment under 1970: still a
  // fixed property of the record, so the segment's folder stays deterministic.
  const timestamp = Number.isSafeInteger(ts) && ts >= 0 ? ts : 0;
  const c = classifyRecord(m.value, views);
  if (c.ok) return { offset, timestamp, line: c.line };
  const letter = {
    value: m.value === null ? null : m.value.toString('utf8'),
    key: m.key === null ? null : m.key.toString('utf8'),
    topic,
    partition,
    offset,
    layer: 'archiver',
    reason: c.reason,
    message: c.message,
  };
  return { offset, timestamp, letter };
}
