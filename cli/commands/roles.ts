/** The long-running roles: archiver, batch, speed, serve, and `all` of them in one process. */
import { runUntilSignal, type Service } from '../../platform/lifecycle.js';
import { LambdaError } from '../../shared/errors.js';
import type { Command } from '../args.js';
import { metricsEndpoint, runtime, type Runtime } from '../runtime.js';
import { buildArchiver, buildBatch, buildMaster, buildServing, buildSpeed } from '../wiring.js';
import { GeneratorLoop } from '../generator-loop.js';
import { createKafka } from '../../adapters/kafka/client.js';
import { EventProducer } from '../../adapters/kafka/producer.js';
import { generatorOptions, generateCommand } from './generate.js';

async function serveRoles(rt: Runtime, services: Service[]): Promise<void> {
  const metrics = metricsEndpoint(rt);
  await runUntilSignal(metrics ? [...services, metrics] : services, rt.log, rt.config.shutdownGraceMs);
}

export const archiverCommand: Command = {
  name: 'archiver',
  usage: 'archiver',
  summary: 'Archive the events topic into the master dataset (idempotent segments, offsets committed after the file is durable).',
  options: {},
  optionHelp: {},
  async run({ env }) {
    const rt = runtime(env);
    await serveRoles(rt, [buildArchiver(rt, await buildMaster(rt))]);
  },
};

export const batchCommand: Command = {
  name: 'batch',
  usage: 'batch run|schedule',
  summary: 'Recompute every view from the master dataset: `run` once now, or `schedule` on LAMBDA_BATCH_CRON.',
  options: {},
  optionHelp: {},
  async run({ env, positionals }) {
    const action = positionals[0];
    if (action !== 'run' && action !== 'schedule') throw new LambdaError('VALIDATION', `batch: expected run or schedule, got ${JSON.stringify(action ?? '')}`);
    const rt = runtime(env, action === 'run' ? 'stderr' : 'stdout');
    const batch = buildBatch(rt, await buildMaster(rt), { schedule: action === 'schedule' });
    if (action === 'schedule') return serveRoles(rt, batch.services);
    for (const s of batch.services) await s.start();
    try {
      const run = await batch.layer.runNow();
      process.stdout.write(
        `${JSON.stringify({ runId: run.runId, watermark: new Date(run.watermark).toISOString(), counts: run.counts, timings: run.timings })}\n`,
      );
    } finally {
      for (const s of [...batch.services].reverse()) await s.stop();
    }
  },
};

export const speedCommand: Command = {
  name: 'speed',
  usage: 'speed',
  summary: 'Consume the events topic into the realtime views in Redis, with exactly-once effects.',
  options: {},
  optionHelp: {},
  async run({ env }) {
    const rt = runtime(env);
    await serveRoles(rt, [buildSpeed(rt)]);
  },
};

export const serveCommand: Command = {
  name: 'serve',
  usage: 'serve',
  summary: 'The HTTP API and dashboard: merged views, drift, status, ingest (LAMBDA_HTTP_PORT, default 8080).',
  options: {},
  optionHelp: {},
  async run({ env }) {
    const rt = runtime(env);
    const master = await buildMaster(rt);
    // On-demand runs from POST /api/v1/batch/runs happen in this process; the lease keeps them
    // from overlapping with a `batch schedule` process elsewhere.
    const batch = buildBatch(rt, master, { schedule: false });
    const serving = buildServing(rt, master, batch.control);
    await runUntilSignal([...batch.services, ...serving.services], rt.log, rt.config.shutdownGraceMs);
  },
};

export const allCommand: Command = {
  name: 'all',
  usage: 'all [--generate] [generator options]',
  summary: 'Every role in one process (archiver, batch on its schedule, speed, serve), for demos; --generate adds the event generator.',
  options: { generate: { type: 'boolean' }, ...generateCommand.options },
  optionHelp: { generate: 'also run the event generator in this process (takes the options of `generate`)' },
  async run({ env, values }) {
    const rt = runtime(env);
    const master = await buildMaster(rt);
    const batch = buildBatch(rt, master, { schedule: true });
    const serving = buildServing(rt, master, batch.control);
    const services: Service[] = [...serving.services, buildArchiver(rt, master), buildSpeed(rt), ...batch.services];
    if (values.generate) {
      const producer = new EventProducer(createKafka(rt.config.kafka.brokers, 'lambda-generate', rt.log));
      services.push(
        { name: 'generator-producer', start: () => producer.start(), stop: () => producer.stop() },
        new GeneratorLoop({ ...generatorOptions(values), topic: rt.config.kafka.topic, producer, out: null, log: rt.log.child({ role: 'generator' }) }),
      );
    }
    const metrics = metricsEndpoint(rt);
    await runUntilSignal(metrics ? [...services, metrics] : services, rt.log, rt.config.shutdownGraceMs);
  },
};
