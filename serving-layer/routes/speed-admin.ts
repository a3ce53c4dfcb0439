/**
 * The admin's runtime tools (issue 20, the teaching lab; docs/design-decisions.md, "Teaching lab"):
 * the speed layer's dedupe switch and pause, which every speed instance obeys in whatever process
 * it runs (a control hash in Redis, shared/speed/control.ts), and a raw ingest that produces lines
 * to the event topic unvalidated, so that invalid records reach the speed layer's and the
 * archiver's dead letters as they would from any Kafka producer. All need the admin token.
 */
import express from 'express';
import { z } from 'zod';
import { LambdaError } from '../../shared/errors.js';
import type { SpeedControlChange } from '../../shared/speed/control.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { dedupeChange, pauseChange, rawIngestAnswer, speedControlChanged } from '../http/schemas/speed-admin.js';
import type { ServingDeps } from '../deps.js';

const OBEYED =
  'Every speed instance obeys it from its next Kafka fetch or its next status report (every 2 s), whichever comes first; ' +
  'GET /api/v1/status shows it: each partition reports the controlVersion its consumer obeys.';

/** The most a Kafka key may be here (the same limit as an event id). */
const MAX_KEY = 256;

export function speedAdminRoutes(deps: ServingDeps): RouteSpec[] {
  const change = async (c: SpeedControlChange) => {
    if (!deps.speedControl) throw new LambdaError('UNAVAILABLE', "this process cannot reach the speed layer's control (no Redis)");
    return deps.speedControl.change(c);
  };
  const adminErrors = {
    400: { description: 'the body is not the documented JSON' },
    401: { description: 'no bearer token' },
    403: { description: 'wrong token, or admin disabled (LAMBDA_ADMIN_TOKEN unset)' },
  };
  const limit = deps.config.http.bodyLimitBytes;
  const rawText = express.text({ limit, type: () => true });
  return [
    defineRoute({
      method: 'put',
      path: '/api/v1/admin/speed/dedupe',
      tag: 'admin',
      admin: true,
      summary: 'Switch the speed dedupe on or off at runtime, in every speed instance (admin)',
      description:
        'LAMBDA_SPEED_DEDUPE stays each instance\'s default; this overrides it for all of them until set back ({"enabled": null}). ' +
        'Claims are made either way, so switching dedupe on again finds the ids seen while it was off. ' +
        OBEYED,
      body: dedupeChange,
      responses: { 200: { description: 'the control after the change', schema: speedControlChanged }, ...adminErrors },
      handler: async ({ body }) => ({ control: await change({ dedupe: body.enabled }), note: OBEYED }),
    }),
    defineRoute({
      method: 'put',
      path: '/api/v1/admin/speed/pause',
      tag: 'admin',
      admin: true,
      summary: 'Pause or resume every speed consumer at runtime (admin)',
      description:
        'Paused, the consumers stop fetching (kafkajs consumer.pause) and apply nothing: the lag grows, the speed views stand still. ' +
        'Resumed, they go on from the offsets stored in Redis and apply each record once. ' +
        OBEYED,
      body: pauseChange,
      responses: { 200: { description: 'the control after the change', schema: speedControlChanged }, ...adminErrors },
      handler: async ({ body }) => ({ control: await change({ paused: body.paused }), note: OBEYED }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/admin/events/raw',
      tag: 'admin',
      admin: true,
      summary: 'Produce lines to the event topic unvalidated: a teaching and testing tool (admin)',
      description:
        'Each non-blank line of the body is produced as one record, unchanged and unvalidated, as any Kafka producer could. ' +
        'Invalid ones then reach the speed layer and the archiver, which send them to the dead-letter topic by reason; ' +
        'POST /api/v1/events refuses them before Kafka. Key: the query parameter `key` for every record (one partition, in order), ' +
        'and `partition` sends every record to that partition whatever its key; ' +
        `else each record's "id" when it is a string, else none. Body limit ${limit} bytes.`,
      query: z.strictObject({
        key: z.string().min(1).max(MAX_KEY).optional().describe('the Kafka key of every record (they then land on one partition, in body order)'),
        partition: z.coerce
          .number()
          .int()
          .min(0)
          .optional()
          .describe('the partition every record goes to, whatever its key (e.g. copies of an event on another partition than the original)'),
      }),
      body: { raw: 'application/x-ndjson, text/plain', description: 'one record per line, any bytes but a line break' },
      responses: {
        202: { description: 'the records are durable in Kafka', schema: rawIngestAnswer },
        400: { description: 'no non-blank line in the body' },
        401: { description: 'no bearer token' },
        403: { description: 'wrong token, or admin disabled (LAMBDA_ADMIN_TOKEN unset)' },
        413: { description: 'body over the size limit' },
      },
      handler: async ({ req, res, query }) => {
        await new Promise<void>((resolve, reject) => rawText(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
        const text = typeof req.body === 'string' ? req.body : '';
        const lines = text
          .split('\n')
          .map((l) => l.replace(/\r$/, ''))
          .filter((l) => l.trim() !== '');
        if (lines.length === 0) throw new LambdaError('VALIDATION', 'request body has no line to produce: send one record per line');
        const key = query.key ?? null;
        const partitions = deps.config.kafka.partitions;
        if (query.partition !== undefined && query.partition >= partitions) {
          throw new LambdaError(
            'VALIDATION',
            `query parameter "partition": ${query.partition} is not a partition of the event topic (LAMBDA_TOPIC_PARTITIONS = ${partitions}: 0 to ${partitions - 1})`,
          );
        }
        const partition = query.partition === undefined ? {} : { partition: query.partition };
        await deps.ingest.send(lines.map((value) => ({ key: key ?? idOf(value), value, ...partition })));
        deps.metrics.serving.ingested.inc({ outcome: 'raw' }, lines.length);
        res.status(202);
        return { produced: lines.length, topic: deps.config.kafka.topic, key, partition: query.partition ?? null };
      },
    }),
  ];
}

/** The record's "id" when it parses to an object with a string id of a key's size (else none: Kafka spreads it). */
function idOf(line: string): string | null {
  try {
    const v: unknown = JSON.parse(line);
    const id = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as { id?: unknown }).id : undefined;
    return typeof id === 'string' && id.length > 0 && id.length <= MAX_KEY ? id : null;
  } catch {
    return null;
  }
}
