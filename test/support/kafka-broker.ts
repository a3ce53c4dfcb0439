/**
 * A Kafka broker of the test's own (KRaft, the project's jars, started by `scripts/services.sh up
 * kafka`) on free ports and in a temp folder: for tests that stop and restart Kafka without
 * touching the shared broker other tests use. Stop is a SIGTERM to the JVM (a clean shutdown);
 * start again reuses the same ports and folder, so topics and committed offsets survive. Also a
 * live feed of records and a logger the test can read, for the tests that take Kafka away.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Kafka } from 'kafkajs';
import { pino } from 'pino';
import { inject } from 'vitest';
import { EventProducer } from '../../adapters/kafka/producer.js';
import type { Logger } from '../../platform/logger.js';
import type { GeneratedRecord } from '../../shared/generator/clickstream.js';
import { ROOT } from './cli-process.js';
import { freePort } from './free-port.js';

export interface PrivateKafka {
  readonly brokers: string[];
  readonly port: number;
  readonly dataDir: string;
  readonly running: boolean;
  /** SIGTERM to the broker; resolves when its process is gone */
  stop(): Promise<void>;
  /** starts it again on the same ports and data; resolves when it accepts clients */
  start(): Promise<void>;
  /** stops it and deletes its data */
  close(): Promise<void>;
}

function services(action: 'up' | 'down', env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    // Asynchronous on purpose: the code under test runs in this process and must keep running meanwhile.
    // The script needs the machine's environment (java on the PATH); ports and data folder are ours.
    // eslint-disable-next-line no-restricted-properties -- not configuration: passed through to a shell script
    const child = spawn('bash', ['scripts/services.sh', action, 'kafka'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`services.sh ${action} kafka exited ${code}:\n${output}`))));
  });
}

export async function startPrivateKafka(): Promise<PrivateKafka> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lambda-kafka-'));
  const [port, controllerPort] = [await freePort(), await freePort()];
  const shared = inject('services').kafkaBrokers;
  if (shared.some((b) => b.endsWith(`:${port}`) || b.endsWith(`:${controllerPort}`))) throw new Error(`port ${port} belongs to the shared broker`);
  const env = { LAMBDA_LOCAL_KAFKA_PORT: String(port), LAMBDA_LOCAL_KAFKA_CONTROLLER_PORT: String(controllerPort), LAMBDA_DATA_DIR: dataDir };
  let running = false;
  const start = async () => {
    await services('up', env);
    running = true;
  };
  const stop = async () => {
    await services('down', env);
    running = false;
  };
  const close = async () => {
    await stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };
  await start().catch(async (err: unknown) => {
    await close(); // a broker that started but never became ready is stopped too
    throw err;
  });
  return {
    brokers: [`127.0.0.1:${port}`],
    port,
    dataDir,
    get running() {
      return running;
    },
    start,
    stop,
    close,
  };
}

// For the tests that take Kafka away from a running layer.

export interface LogLine {
  level: number;
  time: number;
  msg: string;
  [k: string]: unknown;
}

/** A logger whose lines the test can read: how it sees a layer notice an outage and retry. */
export function capturingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as LogLine);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

/**
 * Sends records in small paced batches (a live stream, so a layer is mid-way when Kafka goes)
 * until told to stop or a send fails; resolves with how many were acknowledged. A send cut by
 * the outage has an unknown outcome: tests take the topic read back afterwards as the truth.
 */
export function feed(kafka: Kafka, topic: string, records: readonly GeneratedRecord[]): { stop(): void; done: Promise<number> } {
  let stopping = false;
  const done = (async () => {
    const producer = new EventProducer(kafka);
    await producer.start();
    let sent = 0;
    try {
      while (!stopping && sent < records.length) {
        await producer.send(
          topic,
          records.slice(sent, sent + 25).map((r) => ({ key: r.key, value: r.value })),
        );
        sent = Math.min(records.length, sent + 25);
        await new Promise((r) => setTimeout(r, 50)); // pacing, about 500 records/s
      }
    } catch {
      /* Kafka went down under the send */
    } finally {
      await producer.stop().catch(() => undefined);
    }
    return sent;
  })();
  return { stop: () => void (stopping = true), done };
}

/** For cleanup: stops a service, but waits at most `ms` (a client stuck on a dead broker must not hold up the rest). */
export async function stopWithin(service: { stop(): Promise<void> } | null | undefined, ms: number): Promise<void> {
  if (!service) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([service.stop().catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
