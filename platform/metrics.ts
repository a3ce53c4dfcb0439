/**
 * Every Prometheus metric the service exposes, defined in this one module and named
 * `lambda_<layer>_<what>_<unit>`. Each process builds one `Metrics` (own registry, so tests can
 * build several) and passes it to the parts it runs; /metrics serves `registry`.
 */
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'lambda_process_' });
  const r = [registry];
  return {
    registry,
    invalidEvents: new Counter({
      name: 'lambda_invalid_events_total',
      help: 'Invalid events found, by the layer that found them and the reason (docs/design-decisions.md §2).',
      labelNames: ['layer', 'reason'] as const,
      registers: r,
    }),
    archiver: {
      events: new Counter({ name: 'lambda_archiver_events_total', help: 'Records written to the master dataset.', registers: r }),
      segments: new Counter({ name: 'lambda_archiver_segments_total', help: 'Segment files written to the master dataset.', registers: r }),
      flushSeconds: new Histogram({
        name: 'lambda_archiver_flush_duration_seconds',
        help: 'Time to write one segment durably and commit its offsets.',
        buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
        registers: r,
      }),
      consumerRestarts: new Counter({
        name: 'lambda_archiver_consumer_restarts_total',
        help: 'Kafka consumer restarts after kafkajs gave up.',
        registers: r,
      }),
      flushFailures: new Counter({
        name: 'lambda_archiver_flush_failures_total',
        help: 'Segment flushes that failed (the records are read again from the last checkpoint).',
        registers: r,
      }),
      completeThrough: new Gauge({
        name: 'lambda_archiver_complete_through_seconds',
        help: 'Per partition: arrival time up to which the master dataset is complete (epoch seconds).',
        labelNames: ['partition'] as const,
        registers: r,
      }),
    },
    batch: {
      runs: new Counter({ name: 'lambda_batch_runs_total', help: 'Batch runs, by outcome.', labelNames: ['outcome'] as const, registers: r }),
      runSeconds: new Histogram({
        name: 'lambda_batch_run_duration_seconds',
        help: 'Wall time of a successful batch run.',
        buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
        registers: r,
      }),
      eventsRead: new Counter({ name: 'lambda_batch_events_read_total', help: 'Events read from the master dataset by batch runs.', registers: r }),
      duplicates: new Counter({ name: 'lambda_batch_duplicates_dropped_total', help: 'Duplicate event ids dropped by batch runs.', registers: r }),
      watermark: new Gauge({ name: 'lambda_batch_watermark_seconds', help: 'Batch watermark W of the published run (epoch seconds).', registers: r }),
      lastSuccess: new Gauge({
        name: 'lambda_batch_last_success_timestamp_seconds',
        help: 'When the last successful run finished (epoch seconds).',
        registers: r,
      }),
    },
    speed: {
      events: new Counter({ name: 'lambda_speed_events_total', help: 'Valid events applied to the speed views.', registers: r }),
      batches: new Counter({ name: 'lambda_speed_batches_total', help: 'Fetched batches applied atomically to Redis.', registers: r }),
      duplicates: new Counter({ name: 'lambda_speed_duplicates_total', help: 'Events skipped by the speed layer id dedupe.', registers: r }),
      duplicatesApplied: new Counter({
        name: 'lambda_speed_duplicates_applied_total',
        help: 'Events applied although their id had been seen (speed dedupe switched off).',
        registers: r,
      }),
      replayedRecords: new Counter({
        name: 'lambda_speed_replayed_records_total',
        help: 'Records applied again because Redis held an older offset than the consumer had applied (a failover or restore lost writes).',
        registers: r,
      }),
      consumerRestarts: new Counter({ name: 'lambda_speed_consumer_restarts_total', help: 'Kafka consumer restarts after kafkajs gave up.', registers: r }),
      lateEvents: new Counter({
        name: 'lambda_speed_late_events_total',
        help: 'Events whose bucket was already behind the batch watermark on arrival.',
        registers: r,
      }),
      applySeconds: new Histogram({
        name: 'lambda_speed_apply_duration_seconds',
        help: 'Time of one atomic apply (increments + offset) to Redis.',
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
        registers: r,
      }),
      consumerLag: new Gauge({
        name: 'lambda_speed_consumer_lag_messages',
        help: 'Messages behind the partition end.',
        labelNames: ['partition'] as const,
        registers: r,
      }),
      eventTimeLag: new Gauge({ name: 'lambda_speed_event_time_lag_seconds', help: 'Now minus the newest event time applied.', registers: r }),
      retries: new Counter({
        name: 'lambda_speed_retries_total',
        help: 'Batches retried after a Redis or Kafka failure.',
        labelNames: ['dependency'] as const,
        registers: r,
      }),
    },
    serving: {
      requestSeconds: new Histogram({
        name: 'lambda_serving_http_request_duration_seconds',
        help: 'HTTP request latency by route.',
        labelNames: ['method', 'route', 'status'] as const,
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: r,
      }),
      ingested: new Counter({
        name: 'lambda_serving_ingest_events_total',
        help: 'Events received over HTTP, by outcome.',
        labelNames: ['outcome'] as const,
        registers: r,
      }),
      cacheBytes: new Gauge({
        name: 'lambda_serving_cache_bytes',
        help: 'Bytes held by the serving cache (bounded by LAMBDA_SERVING_CACHE_MB).',
        registers: r,
      }),
      cacheEntries: new Gauge({ name: 'lambda_serving_cache_entries', help: 'Entries held by the serving cache.', registers: r }),
      cacheLookups: new Counter({
        name: 'lambda_serving_cache_lookups_total',
        help: 'Serving cache lookups by part (answer, batch, drift, pair, speed) and outcome (hit; stale: kept but built from another run or speed read; miss; for speed reads: fresh, joined, read, and unchanged: a reread skipped because its content check found nothing changed).',
        labelNames: ['part', 'outcome'] as const,
        registers: r,
      }),
      cacheEvictions: new Counter({ name: 'lambda_serving_cache_evictions_total', help: 'Entries dropped to stay within the memory bound.', registers: r }),
    },
  };
}
