/**
 * POST /api/v1/events: JSON (one event or an array) or NDJSON. Valid events are produced to
 * Kafka (idempotent producer, acks=all, keyed by id) before the 202; invalid ones are reported
 * per record with the reason, and nothing valid is lost because of them.
 */
import express from 'express';
import { MAX_EVENT_DEPTH, MAX_ID_LENGTH, MAX_VALUE_LENGTH, validateEvent } from '../../shared/events.js';
import { LambdaError } from '../../shared/errors.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import type { ServingDeps } from '../deps.js';
import { ingestAnswer, type RejectedRecord } from '../http/schemas/ingest.js';

const NDJSON_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/json-seq', 'text/plain'];

const NOT_JSON = Symbol('not_json');

/** Splits the body into numbered records: NDJSON lines (blank lines skipped, numbers kept) or JSON values. */
function records(req: express.Request): { record: number; value: unknown }[] {
  if (typeof req.body === 'string') {
    return req.body
      .split('\n')
      .map((line, i) => ({ record: i + 1, line: line.replace(/\r$/, '') }))
      .filter((r) => r.line.trim() !== '')
      .map(({ record, line }) => {
        try {
          return { record, value: JSON.parse(line) as unknown };
        } catch {
          return { record, value: NOT_JSON };
        }
      });
  }
  if (Array.isArray(req.body)) return req.body.map((value, i) => ({ record: i + 1, value }));
  if (req.body && typeof req.body === 'object' && Object.keys(req.body).length > 0) return [{ record: 1, value: req.body }];
  return [];
}

export function ingestRoutes(deps: ServingDeps): RouteSpec[] {
  const limit = deps.config.http.bodyLimitBytes;
  const parsers = [express.json({ limit, strict: true }), express.text({ limit, type: NDJSON_TYPES })];
  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/events',
      tag: 'ingest',
      summary: 'Ingest events (JSON object, JSON array, or NDJSON)',
      description:
        `Every event needs "id" (non-empty string, at most ${MAX_ID_LENGTH} characters) and "ts" (epoch ms or ISO-8601 with zone). ` +
        `A string a view keeps (dimension, distinct member) has at most ${MAX_VALUE_LENGTH} characters; an event nests at most ${MAX_EVENT_DEPTH} levels. ` +
        `Body limit ${limit} bytes (413 above).`,
      body: { raw: 'application/json, application/x-ndjson', description: 'one event, an array of events, or one event per line' },
      responses: {
        202: { description: 'valid events are durable in Kafka; invalid ones are listed in `rejected`', schema: ingestAnswer },
        400: { description: 'no valid event in the body (each rejected one is listed)' },
        413: { description: 'body over the size limit' },
      },
      handler: async ({ req, res }) => {
        for (const p of parsers) await new Promise<void>((resolve, reject) => p(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
        const valid: { key: string; value: string }[] = [];
        const rejected: RejectedRecord[] = [];
        const all = records(req);
        if (all.length === 0) {
          throw new LambdaError(
            'VALIDATION',
            'request body is empty: send one JSON event, a JSON array of events, or NDJSON (Content-Type: application/x-ndjson)',
          );
        }
        for (const { record, value } of all) {
          const result =
            value === NOT_JSON ? ({ ok: false, reason: 'not_json', message: 'record is not valid JSON' } as const) : validateEvent(value, deps.views);
          // Serialised only once valid: validation bounds the nesting depth (docs/design-decisions.md
          // §2, "Limits"), so JSON.stringify cannot overflow the stack on a 5,000-deep record.
          if (result.ok) valid.push({ key: result.event.id, value: JSON.stringify(result.event.body) });
          else rejected.push({ record, reason: result.reason, message: result.message });
        }
        for (const r of rejected) deps.metrics.invalidEvents.inc({ layer: 'serving', reason: r.reason });
        deps.metrics.serving.ingested.inc({ outcome: 'rejected' }, rejected.length);
        if (valid.length === 0) {
          // The first rejection in the detail too, so a client that shows only `detail` sees why.
          const first = rejected[0] as RejectedRecord;
          const why = `first: record ${first.record}, ${first.reason}: ${first.message}`;
          throw new LambdaError('VALIDATION', `no valid event in the body: ${rejected.length} record(s) rejected (${why})`, {
            details: { rejected: rejected.slice(0, 1000) },
          });
        }
        await deps.ingest.send(valid);
        deps.metrics.serving.ingested.inc({ outcome: 'accepted' }, valid.length);
        res.status(202);
        return { accepted: valid.length, rejected: rejected.slice(0, 1000), rejectedTotal: rejected.length, topic: deps.config.kafka.topic };
      },
    }),
  ];
}
