/**
 * One place that builds Redis clients and classifies Redis failures.
 *
 * A command fails fast while Redis is unreachable (two reconnect attempts, then an error) instead
 * of waiting in ioredis's offline queue forever: the callers own the retry loop (backoff, Kafka
 * heartbeats, stop on shutdown). A command that was sent but not answered may be re-sent after a
 * reconnect; every write script is a compare-and-set on the partition offset, so that is harmless.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisClient } from './scripts.js';
import { LambdaError, isLambdaError } from '../../shared/errors.js';
import type { Logger } from '../../platform/logger.js';

/**
 * `redis://host:port` is one server; `redis-cluster://host:port,host:port,...` names seed nodes of a
 * Redis Cluster, and the client follows the cluster's slots (every multi-key script of the service
 * keeps its keys in one hash slot: adapters/redis/keys.ts).
 */
export function createRedis(url: string, log: Logger, name = 'lambda-arch'): RedisClient {
  const options: RedisOptions = {
    connectionName: name,
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    commandTimeout: 15_000,
    retryStrategy: (times) => Math.min(100 * times, 2_000),
  };
  // Commands issued in one tick go out in one write: a query that reads a few hundred groups
  // (PFCOUNT per group, concurrent requests) costs one syscall instead of hundreds. Order per
  // connection is unchanged, so the scripts' compare-and-set semantics are too. Not on a Cluster:
  // there ioredis's auto-pipelines refused the apply scripts ("All keys in the pipeline should
  // belong to the same slots allocation group") although each script keeps its keys in one slot;
  // commands issued together still go out in parallel, one per node.
  const redis: RedisClient = isClusterUrl(url)
    ? new Cluster(clusterNodes(url), { redisOptions: options, scaleReads: 'master', clusterRetryStrategy: (times) => Math.min(100 * times, 2_000) })
    : new Redis(url, { ...options, enableAutoPipelining: true });
  // ioredis emits 'error' on every failed reconnect; log the outage once, and its end.
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log.warn({ err: err.message, component: 'redis' }, 'Redis unreachable; retrying');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ component: 'redis' }, 'Redis reachable again');
  });
  return redis;
}

/** Server replies that mean "not now" rather than "wrong": loading after a restart, a busy script, failover. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|READONLY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|NOREPLICAS)\b/;

/**
 * Any Redis failure -> LambdaError. Connection problems and transient replies are retriable
 * (DEPENDENCY_DOWN); other error replies (a script rejecting its input, a wrong key type) are bugs
 * or corrupt data and are not retried.
 */
export function redisError(err: unknown, what: string): LambdaError {
  if (isLambdaError(err)) return err;
  const e = err as { name?: string; message?: string };
  const message = String(e?.message ?? err);
  const isReply = e?.name === 'ReplyError';
  const retriable = !isReply || TRANSIENT_REPLY.test(message);
  return new LambdaError(retriable ? 'DEPENDENCY_DOWN' : 'INTERNAL', `Redis ${what} failed: ${message}`, { retriable, cause: err });
}

/** Runs `fn`, turning any failure into a classified LambdaError. */
export async function redisCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw redisError(err, what);
  }
}

export function isClusterUrl(url: string): boolean {
  return url.startsWith('redis-cluster://');
}

/** The seed nodes of a `redis-cluster://host:port,host:port` URL. */
export function clusterNodes(url: string): { host: string; port: number }[] {
  return url
    .slice('redis-cluster://'.length)
    .split(',')
    .map((hp) => {
      const i = hp.lastIndexOf(':');
      return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
    });
}
