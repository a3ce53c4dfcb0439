/**
 * Configuration: read once from the environment at start, validated with zod, frozen, and passed
 * in. This module and the CLI entry are the only places that ever see `process.env`-shaped data;
 * every other module receives the typed, frozen `Config` (or the slice it needs).
 */
import { z } from 'zod';
import { LambdaError } from '../shared/errors.js';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']).transform((v) => ['true', '1', 'yes', 'on'].includes(v));
/**
 * The most records one speed-layer apply may carry (LAMBDA_SPEED_APPLY_MAX_EVENTS): the bound the
 * tests apply in one call (test/integration/speed-dedupe.test.ts), arguments passed as arrays.
 */
export const MAX_SPEED_APPLY_EVENTS = 100_000;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const brokers = z
  .string()
  .min(1)
  .transform((s) =>
    s
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[^:\s]+:\d{1,5}$/, 'each broker must be host:port')).min(1));

/** Every setting, its variable name and its default. The README's settings table mirrors this. */
const EnvSchema = z.object({
  KAFKA_BROKERS: brokers.default(['127.0.0.1:9092']),
  REDIS_URL: z
    .string()
    .regex(
      /^(rediss?:\/\/|redis-cluster:\/\/[^,:/]+:\d+(,[^,:/]+:\d+)*$)/,
      'must start with redis:// or rediss://, or be redis-cluster://host:port,host:port,... (seed nodes of a Redis Cluster)',
    )
    .default('redis://127.0.0.1:6380'),
  LAMBDA_TOPIC: z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,200}$/)
    .default('events'),
  LAMBDA_TOPIC_PARTITIONS: int(1, 1024).default(2),
  // Copies of each partition when the service creates the topics: 'auto' = 3 on a cluster of three
  // brokers or more, else one per broker (adapters/kafka/replication.ts); min.insync.replicas follows.
  LAMBDA_TOPIC_REPLICATION: z.union([z.literal('auto'), int(1, 32)]).default('auto'),
  // How long a consumer (archiver, speed layer) may be silent before Kafka reassigns its partitions;
  // also how long a restarted member waits for a killed one. Brokers accept 6 s at the least.
  LAMBDA_KAFKA_SESSION_TIMEOUT_MS: int(6_000, 3_600_000).default(30_000),
  LAMBDA_DATA_DIR: z.string().min(1).default('data'),
  LAMBDA_MASTER_URL: z.string().min(1).optional(),
  // The S3 master dataset (LAMBDA_MASTER_URL=s3://bucket/prefix). Without an endpoint it is AWS S3
  // itself; with one (S3Proxy, MinIO, Ceph...) path-style addressing is the default.
  LAMBDA_S3_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  LAMBDA_S3_REGION: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/, 'must be an AWS region name such as us-east-1')
    .default('us-east-1'),
  LAMBDA_S3_FORCE_PATH_STYLE: bool.optional(),
  // Attempts per S3 request (the SDK retries throttling, 5xx and network errors with backoff).
  LAMBDA_S3_MAX_ATTEMPTS: int(1, 20).default(5),
  // Idle time per request (also the connect timeout, and verify()'s whole deadline at start).
  LAMBDA_S3_REQUEST_TIMEOUT_MS: int(100, 600_000).default(30_000),
  // Keys per ListObjectsV2 page (S3's maximum is 1000); tests make it small to cross pages.
  LAMBDA_S3_LIST_PAGE_SIZE: int(1, 1000).default(1000),
  // Explicit keys (both or neither). Unset: the AWS SDK's default credential chain (AWS_ACCESS_KEY_ID/
  // AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, container/instance roles).
  LAMBDA_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  LAMBDA_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  LAMBDA_VIEWS_FILE: z.string().min(1).optional(),
  LAMBDA_KEY_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,40}$/)
    .default('la'),
  LAMBDA_ALLOWED_LATENESS_MS: int(0).default(60_000),
  LAMBDA_BATCH_CRON: z.string().min(1).default('*/5 * * * *'),
  LAMBDA_BATCH_KEEP_RUNS: int(2, 1000).default(5),
  LAMBDA_BATCH_WORKERS: int(0, 64).default(0),
  LAMBDA_BATCH_DEDUPE_MAX_IDS: int(1000).default(10_000_000),
  LAMBDA_BATCH_LEASE_MS: int(1000).default(30_000),
  // The engine that recomputes the views (issue 15): the TypeScript map/merge, DuckDB (SQL), or
  // Apache Spark (the same SQL; issue 17).
  LAMBDA_BATCH_ENGINE: z.enum(['reference', 'duckdb', 'spark']).default('duckdb'),
  // The spark engine's master: local[*] / local[N] (in the driver's JVM) or a standalone
  // cluster's spark://host:port.
  LAMBDA_SPARK_MASTER: z
    .string()
    .regex(
      /^(local(\[(\*|[1-9][0-9]{0,3})\])?|spark:\/\/[A-Za-z0-9.-]+:[0-9]{1,5}(,[A-Za-z0-9.-]+:[0-9]{1,5})*)$/,
      'local, local[*], local[N] or spark://host:port',
    )
    .default('local[*]'),
  // DuckDB's memory_limit for the duckdb engine; past it DuckDB spills to <batch dir>/duckdb/.
  LAMBDA_BATCH_MEMORY_MB: int(128, 1_048_576).default(2048),
  // HyperLogLog sketches of the distinct measures in each run file (issue 16): distinct counts over
  // any range and groupBy. Off: smaller, faster runs; such totals across batch buckets are unavailable.
  LAMBDA_BATCH_SKETCHES: bool.default(true),
  // The duckdb engine keeps each local segment's validated load as Parquet under
  // <master>/compacted/ and reads it on later runs instead of the JSON (issue 15). Off: JSON every run.
  LAMBDA_BATCH_COMPACT: bool.default(true),
  // A pause after each master file a batch worker reads. 0 in production; crash tests and demos
  // use it to catch a run in flight.
  LAMBDA_BATCH_FILE_DELAY_MS: int(0, 60_000).default(0),
  LAMBDA_ARCHIVER_FLUSH_MS: int(10).default(5_000),
  LAMBDA_ARCHIVER_FLUSH_EVENTS: int(1).default(50_000),
  LAMBDA_SPEED_DEDUPE: bool.default(true),
  // Dedupe window: an id is remembered until this long after the end of its event's UTC hour.
  LAMBDA_SPEED_DEDUPE_TTL_S: int(1).default(3_600),
  LAMBDA_SPEED_COVER_FROM: z.enum(['day-before', 'earliest', 'now']).default('day-before'),
  // Largest number of Kafka records applied to Redis in one atomic Lua call; a bigger fetched batch
  // is split into sub-batches by offset, each atomic with its own end offset.
  LAMBDA_SPEED_APPLY_MAX_EVENTS: int(1, MAX_SPEED_APPLY_EVENTS).default(1_000),
  // Partitions one speed consumer processes at once (kafkajs partitionsConsumedConcurrently): while
  // one partition's Lua call runs in Redis, another's batch is parsed and planned in Node.
  LAMBDA_SPEED_CONCURRENT_PARTITIONS: int(1, 64).default(2),
  // On a Redis Cluster: how long a master may take to confirm on a replica (WAIT) the claims and
  // HLL adds a batch wrote outside its partition's slot, before the apply; 0 = do not wait (a
  // failover may then lose distinct members and claims for good). docs "Redis Cluster".
  LAMBDA_SPEED_REPLICA_WAIT_MS: int(0, 60_000).default(1_000),
  LAMBDA_RETRY_BASE_MS: int(1).default(200),
  LAMBDA_RETRY_MAX_MS: int(1).default(10_000),
  LAMBDA_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  LAMBDA_HTTP_PORT: int(0, 65535).default(8080),
  // Roles other than `serve` expose /metrics on this port when set (0 = off), e.g. for Prometheus in docker-compose.
  LAMBDA_METRICS_PORT: int(0, 65535).default(0),
  LAMBDA_HTTP_BODY_LIMIT_BYTES: int(1024).default(1_048_576),
  LAMBDA_SERVING_CACHE_MB: int(0, 65_536).default(64),
  LAMBDA_SERVING_SPEED_MAX_STALE_MS: int(0, 1_000).default(200),
  LAMBDA_SERVING_CATALOG_CHECK_MS: int(0, 1_000).default(50),
  LAMBDA_SERVING_MAX_ANSWER_ROWS: int(1).default(1_000_000),
  LAMBDA_ADMIN_TOKEN: z.string().min(8, 'must be at least 8 characters').optional(),
  LAMBDA_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LAMBDA_SHUTDOWN_GRACE_MS: int(0).default(10_000),
});

export type Env = Readonly<Record<string, string | undefined>>;

export interface Config {
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly topic: string;
    readonly dlqTopic: string;
    readonly partitions: number;
    /** copies per partition of the topics the service creates ('auto': from the cluster size) */
    readonly replication: 'auto' | number;
    readonly sessionTimeoutMs: number;
  };
  readonly redis: { readonly url: string; readonly keyPrefix: string };
  readonly dataDir: string;
  /** `file:///abs/path` or `s3://bucket/prefix`; defaults to `<dataDir>/master`. */
  readonly masterUrl: string;
  /** how to reach the bucket of an `s3://` masterUrl (unused for `file://`) */
  readonly s3: {
    /** null = AWS S3 (the region's own endpoint) */
    readonly endpoint: string | null;
    readonly region: string;
    readonly forcePathStyle: boolean;
    readonly maxAttempts: number;
    readonly requestTimeoutMs: number;
    readonly listPageSize: number;
    /** null = the AWS SDK's default credential provider chain */
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | null;
  };
  readonly viewsFile: string | null;
  readonly allowedLatenessMs: number;
  readonly batch: {
    readonly dir: string;
    readonly cron: string;
    readonly keepRuns: number;
    readonly workers: number;
    readonly dedupeMaxIds: number;
    readonly leaseMs: number;
    readonly fileDelayMs: number;
    /** LAMBDA_BATCH_ENGINE */
    readonly engine: 'reference' | 'duckdb' | 'spark';
    /** the spark engine's master (LAMBDA_SPARK_MASTER) */
    readonly sparkMaster: string;
    /** the duckdb engine's memory_limit in MiB (LAMBDA_BATCH_MEMORY_MB) */
    readonly memoryMb: number;
    /** build the distinct measures' sketches into each run file (LAMBDA_BATCH_SKETCHES) */
    readonly sketches: boolean;
    /** the duckdb engine reads and writes compacted segments (LAMBDA_BATCH_COMPACT) */
    readonly compact: boolean;
  };
  readonly archiver: { readonly flushMs: number; readonly flushEvents: number; readonly groupId: string };
  readonly speed: {
    readonly groupId: string;
    readonly dedupe: boolean;
    /** an id is remembered until this long after its event hour ends (LAMBDA_SPEED_DEDUPE_TTL_S) */
    readonly dedupeWindowMs: number;
    readonly coverFrom: 'day-before' | 'earliest' | 'now';
    readonly applyMaxEvents: number;
    readonly concurrentPartitions: number;
    /** LAMBDA_SPEED_REPLICA_WAIT_MS (Redis Cluster only; 0 = off) */
    readonly replicaWaitMs: number;
  };
  readonly retry: { readonly baseMs: number; readonly maxMs: number };
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    readonly adminToken: string | null;
    readonly metricsPort: number;
  };
  readonly serving: {
    /** memory of the serving cache's answers and parts (LAMBDA_SERVING_CACHE_MB); 0 turns the cache off */
    readonly cacheBytes: number;
    /** a speed-layer read is reused while younger than this (LAMBDA_SERVING_SPEED_MAX_STALE_MS) */
    readonly speedMaxStaleMs: number;
    /** a publish by another process is seen within this (LAMBDA_SERVING_CATALOG_CHECK_MS); one by this process at once */
    readonly catalogCheckMs: number;
    /** most rows (bucket x group) one answer may read (LAMBDA_SERVING_MAX_ANSWER_ROWS) */
    readonly maxAnswerRows: number;
  };
  readonly logLevel: string;
  readonly shutdownGraceMs: number;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * LAMBDA_* variables the service does not know. A misspelt setting would otherwise be ignored
 * silently, its default used (and the defaults point at this machine's local services, so a run
 * may even look right): the CLI warns about each at start. LAMBDA_LOCAL_* are the service scripts'
 * own settings (scripts/*.sh), not the service's.
 */
export function unknownSettings(env: Env): string[] {
  const known = new Set(Object.keys(EnvSchema.shape));
  return Object.keys(env)
    .filter((k) => k.startsWith('LAMBDA_') && !k.startsWith('LAMBDA_LOCAL_') && !known.has(k))
    .sort();
}

/** Validates the environment; throws CONFIG_INVALID naming every variable that is wrong. */
export function loadConfig(env: Env, cwd: string): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}=${JSON.stringify(env[String(i.path[0])] ?? null)}: ${i.message}`);
    throw new LambdaError('CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const abs = (p: string) => (p.startsWith('/') ? p : `${cwd}/${p}`);
  const dataDir = abs(e.LAMBDA_DATA_DIR);
  const masterUrl = e.LAMBDA_MASTER_URL ?? `file://${dataDir}/master`;
  if (!/^(file:\/\/\/|s3:\/\/[^/]+)/.test(masterUrl)) {
    throw new LambdaError(
      'CONFIG_INVALID',
      `invalid configuration:\n  LAMBDA_MASTER_URL=${JSON.stringify(masterUrl)}: must be file:///absolute/path or s3://bucket/prefix`,
    );
  }
  if ((e.LAMBDA_S3_ACCESS_KEY_ID === undefined) !== (e.LAMBDA_S3_SECRET_ACCESS_KEY === undefined)) {
    throw new LambdaError('CONFIG_INVALID', 'invalid configuration:\n  LAMBDA_S3_ACCESS_KEY_ID and LAMBDA_S3_SECRET_ACCESS_KEY: set both or neither');
  }
  return deepFreeze<Config>({
    kafka: {
      brokers: e.KAFKA_BROKERS,
      topic: e.LAMBDA_TOPIC,
      dlqTopic: `${e.LAMBDA_TOPIC}.dlq`,
      partitions: e.LAMBDA_TOPIC_PARTITIONS,
      replication: e.LAMBDA_TOPIC_REPLICATION,
      sessionTimeoutMs: e.LAMBDA_KAFKA_SESSION_TIMEOUT_MS,
    },
    redis: { url: e.REDIS_URL, keyPrefix: e.LAMBDA_KEY_PREFIX },
    dataDir,
    masterUrl,
    s3: {
      endpoint: e.LAMBDA_S3_ENDPOINT ?? null,
      region: e.LAMBDA_S3_REGION,
      forcePathStyle: e.LAMBDA_S3_FORCE_PATH_STYLE ?? e.LAMBDA_S3_ENDPOINT !== undefined,
      maxAttempts: e.LAMBDA_S3_MAX_ATTEMPTS,
      requestTimeoutMs: e.LAMBDA_S3_REQUEST_TIMEOUT_MS,
      listPageSize: e.LAMBDA_S3_LIST_PAGE_SIZE,
      credentials:
        e.LAMBDA_S3_ACCESS_KEY_ID !== undefined && e.LAMBDA_S3_SECRET_ACCESS_KEY !== undefined
          ? { accessKeyId: e.LAMBDA_S3_ACCESS_KEY_ID, secretAccessKey: e.LAMBDA_S3_SECRET_ACCESS_KEY }
          : null,
    },
    viewsFile: e.LAMBDA_VIEWS_FILE ? abs(e.LAMBDA_VIEWS_FILE) : null,
    allowedLatenessMs: e.LAMBDA_ALLOWED_LATENESS_MS,
    batch: {
      dir: `${dataDir}/batch`,
      cron: e.LAMBDA_BATCH_CRON,
      keepRuns: e.LAMBDA_BATCH_KEEP_RUNS,
      workers: e.LAMBDA_BATCH_WORKERS,
      dedupeMaxIds: e.LAMBDA_BATCH_DEDUPE_MAX_IDS,
      leaseMs: e.LAMBDA_BATCH_LEASE_MS,
      fileDelayMs: e.LAMBDA_BATCH_FILE_DELAY_MS,
      engine: e.LAMBDA_BATCH_ENGINE,
      sparkMaster: e.LAMBDA_SPARK_MASTER,
      memoryMb: e.LAMBDA_BATCH_MEMORY_MB,
      sketches: e.LAMBDA_BATCH_SKETCHES,
      compact: e.LAMBDA_BATCH_COMPACT,
    },
    archiver: { flushMs: e.LAMBDA_ARCHIVER_FLUSH_MS, flushEvents: e.LAMBDA_ARCHIVER_FLUSH_EVENTS, groupId: `${e.LAMBDA_KEY_PREFIX}-archiver` },
    speed: {
      groupId: `${e.LAMBDA_KEY_PREFIX}-speed`,
      dedupe: e.LAMBDA_SPEED_DEDUPE,
      dedupeWindowMs: e.LAMBDA_SPEED_DEDUPE_TTL_S * 1000,
      coverFrom: e.LAMBDA_SPEED_COVER_FROM,
      applyMaxEvents: e.LAMBDA_SPEED_APPLY_MAX_EVENTS,
      concurrentPartitions: e.LAMBDA_SPEED_CONCURRENT_PARTITIONS,
      replicaWaitMs: e.LAMBDA_SPEED_REPLICA_WAIT_MS,
    },
    retry: { baseMs: e.LAMBDA_RETRY_BASE_MS, maxMs: e.LAMBDA_RETRY_MAX_MS },
    http: {
      host: e.LAMBDA_HTTP_HOST,
      port: e.LAMBDA_HTTP_PORT,
      bodyLimitBytes: e.LAMBDA_HTTP_BODY_LIMIT_BYTES,
      adminToken: e.LAMBDA_ADMIN_TOKEN ?? null,
      metricsPort: e.LAMBDA_METRICS_PORT,
    },
    serving: {
      cacheBytes: e.LAMBDA_SERVING_CACHE_MB * 1024 * 1024,
      speedMaxStaleMs: e.LAMBDA_SERVING_SPEED_MAX_STALE_MS,
      catalogCheckMs: e.LAMBDA_SERVING_CATALOG_CHECK_MS,
      maxAnswerRows: e.LAMBDA_SERVING_MAX_ANSWER_ROWS,
    },
    logLevel: e.LAMBDA_LOG_LEVEL,
    shutdownGraceMs: e.LAMBDA_SHUTDOWN_GRACE_MS,
  });
}

/** The settings table for the README and `--help`: variable, default. */
export function settingsTable(): { name: string; default: string }[] {
  return Object.entries(EnvSchema.shape).map(([name, schema]) => {
    const parsed = (schema as z.ZodType).safeParse(undefined);
    return { name, default: parsed.success ? JSON.stringify(parsed.data) : '(unset)' };
  });
}
