/** POST /api/v1/events: what was accepted and what was rejected, per record (serving-layer/routes/ingest.ts). */
import { z } from 'zod';
import type { InvalidReason } from '../../../shared/events.js';
import { count, enumOf } from './common.js';

export const invalidReason = enumOf<InvalidReason>()(['not_json', 'not_object', 'missing_id', 'bad_id', 'missing_ts', 'bad_ts', 'bad_field']).describe(
  'why the record is not a valid event',
);

export const rejectedRecord = z.strictObject({
  record: z.int().positive().describe('1-based: the line for NDJSON, the position in a JSON array'),
  reason: invalidReason,
  message: z.string().describe('what is wrong, naming the field (and the view, for a bad field type)'),
});

export const ingestAnswer = z.strictObject({
  accepted: count('events durable in Kafka'),
  rejected: z.array(rejectedRecord).max(1000).describe('the invalid records (the first 1000)'),
  rejectedTotal: count('invalid records in the body'),
  topic: z.string().describe('the Kafka topic they were produced to'),
});

export type RejectedRecord = z.infer<typeof rejectedRecord>;
export type IngestAnswer = z.infer<typeof ingestAnswer>;
