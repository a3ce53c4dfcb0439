/**
 * `lambda-arch generate`: a realistic clickstream into Kafka (and/or a JSONL file, so the truth can
 * be computed independently), paced to a rate, with chosen fractions of late, duplicate and
 * invalid records. Prints progress and, at the end, how many records of each kind it sent.
 */
import { randomInt } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { LambdaError } from '../../shared/errors.js';
import { createKafka } from '../../adapters/kafka/client.js';
import { ensureTopics } from '../../adapters/kafka/topics.js';
import { EventProducer } from '../../adapters/kafka/producer.js';
import { num, type Command } from '../args.js';
import { boot } from '../boot.js';
import { GeneratorLoop } from '../generator-loop.js';

export const generateCommand: Command = {
  name: 'generate',
  usage: 'generate [--rate N] [--count N | --duration S] [--seed N] [--late F] [--duplicates F] [--invalid F] [--out FILE] [--no-kafka]',
  summary: 'Produce a clickstream (Zipf-popular URLs, many users, countries, purchases) to the events topic.',
  options: {
    rate: { type: 'string' },
    count: { type: 'string' },
    duration: { type: 'string' },
    seed: { type: 'string' },
    late: { type: 'string' },
    duplicates: { type: 'string' },
    invalid: { type: 'string' },
    'max-lateness': { type: 'string' },
    'start-ts': { type: 'string' },
    out: { type: 'string' },
    'no-kafka': { type: 'boolean' },
    'no-pace': { type: 'boolean' },
  },
  optionHelp: {
    rate: 'events per second (default 200)',
    count: 'stop after this many records',
    duration: 'stop after this many seconds (default: run until Ctrl-C, or until --count)',
    seed: 'PRNG seed: the same seed (and --start-ts) gives the same stream and event ids (default: a new seed each run, reported)',
    late: 'fraction of late events, 0..1 (default 0.02)',
    duplicates: 'fraction of duplicate records, 0..1 (default 0.01)',
    invalid: 'fraction of invalid records, 0..1 (default 0.005)',
    'max-lateness': 'how late a late event may be, in seconds (default 1800)',
    'start-ts': 'event time of the first event, epoch ms (default now)',
    out: 'also write every record to this JSONL file',
    'no-kafka': 'write only to --out, not to Kafka',
    'no-pace': 'send as fast as possible (event times still follow --rate)',
  },
  async run({ values, env }) {
    const toKafka = !values['no-kafka'];
    if (!toKafka && !values.out) throw new LambdaError('VALIDATION', '--no-kafka needs --out FILE');
    const { config, log } = boot(env, 'stderr');
    const out = values.out ? createWriteStream(String(values.out)) : null;
    const kafka = toKafka ? createKafka(config.kafka.brokers, 'lambda-generate', log) : null;
    const producer = kafka ? new EventProducer(kafka) : null;
    if (kafka && producer) {
      await ensureTopics(
        kafka,
        [
          { topic: config.kafka.topic, partitions: config.kafka.partitions },
          { topic: config.kafka.dlqTopic, partitions: config.kafka.partitions },
        ],
        config.kafka.replication,
      );
      await producer.start();
    }
    const options = generatorOptions(values);
    const loop = new GeneratorLoop({ ...options, topic: config.kafka.topic, producer, out, log });
    const stop = () => void loop.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await loop.start();
    await loop.done();
    await producer?.stop();
    if (out) await new Promise<void>((resolve) => out.end(resolve));
    process.stdout.write(`${JSON.stringify({ ...loop.counts, seed: options.seed, topic: toKafka ? config.kafka.topic : null, out: values.out ?? null })}\n`);
  },
};

/** The generator options shared by `generate` and `all --generate`. */
export function generatorOptions(values: Record<string, unknown>) {
  return {
    rate: num(values, 'rate', 200, 0.001),
    count: values.count === undefined ? Infinity : num(values, 'count', 0, 1),
    durationS: values.duration === undefined ? Infinity : num(values, 'duration', 0, 0.001),
    pace: !values['no-pace'],
    // A new seed per run unless one is given: event ids are `e-<seed>-<n>`, so every run with one
    // seed (a restarted demo, a second `generate`) would repeat the ids and be dropped as duplicates.
    seed: num(values, 'seed', randomInt(0, 2 ** 32), 0, 2 ** 32 - 1),
    startTs: num(values, 'start-ts', Date.now(), 0),
    lateFraction: num(values, 'late', 0.02, 0, 0.99),
    duplicateFraction: num(values, 'duplicates', 0.01, 0, 0.99),
    invalidFraction: num(values, 'invalid', 0.005, 0, 0.99),
    maxLatenessMs: num(values, 'max-lateness', 1800, 61) * 1000,
  };
}
