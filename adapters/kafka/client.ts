/** One place that builds kafkajs clients: brokers from config, kafkajs logs routed into pino. */
import { Kafka, logLevel, type logCreator } from 'kafkajs';
import type { Logger } from '../../platform/logger.js';

const levelName: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * kafkajs logs transient coordinator errors (a group coordinator still loading after a broker
 * start) at ERROR although it retries them; they are logged at debug so real errors stand out.
 */
const TRANSIENT = /coordinator is (loading|not available)|not the correct coordinator|leadership election/i;

/**
 * kafkajs warns that a bounded retry count "may invalidate EoS guarantees" of the idempotent
 * producer. We bound it on purpose, so a send to a broker that is down fails instead of hanging
 * an HTTP request forever; the caller retries the whole send, and exactly-once effects rest on
 * event ids (batch dedupe, speed dedupe) and offsets stored with the views, not on the producer.
 */
const KNOWN_WARNINGS = /Limiting retries for the idempotent producer/;

function pinoLogCreator(log: Logger): logCreator {
  return () =>
    ({ namespace, level, log: entry }) => {
      const { message, ...extra } = entry;
      const quiet = TRANSIENT.test(String(extra.error ?? message)) || KNOWN_WARNINGS.test(String(message));
      const name = quiet ? 'debug' : (levelName[level] ?? 'info');
      log[name]({ kafkajs: namespace, ...extra }, message);
    };
}

/** For a client that must give up quickly (a question whose answer has a fallback). */
export interface KafkaClientOptions {
  retries?: number;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export function createKafka(brokers: readonly string[], clientId: string, log: Logger, opts: KafkaClientOptions = {}): Kafka {
  return new Kafka({
    clientId,
    brokers: [...brokers],
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(log.child({ component: 'kafkajs' })),
    // kafkajs retries requests itself; the layers add their own backoff around whole batches.
    retry: { initialRetryTime: 200, retries: opts.retries ?? 8, maxRetryTime: 5_000 },
    connectionTimeout: opts.connectionTimeoutMs ?? 5_000,
    ...(opts.requestTimeoutMs !== undefined ? { requestTimeout: opts.requestTimeoutMs } : {}),
  });
}
