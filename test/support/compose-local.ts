/**
 * docker-compose.yml translated into local processes, for a test that runs the stack it describes
 * without a Docker engine (issue 18). Pure: it reads the compose text and the Dockerfile and says,
 * per application service, which `bin/lambda-arch` arguments and which environment to run it with;
 * test/support/compose-stack.ts starts them. Everything that cannot be translated faithfully is an
 * error naming the service, because that is what a user's first `docker compose up` would meet.
 *
 * The mapping, container -> this machine:
 *  - the image: ENTRYPOINT (or the service's `entrypoint:`) is a path in the image, under the
 *    Dockerfile's WORKDIR (/app), where `COPY . .` put this repository: /app/... -> <repo>/...
 *    Only the image's `bin/lambda-arch` is runnable here; `command:` is its arguments, unchanged.
 *  - host names: each container reaches Kafka, Redis and S3 by service name. `kafka:<port>` (the
 *    address the broker advertises in KAFKA_ADVERTISED_LISTENERS), `redis:<port>` (6379, or the
 *    `--port` of its command) and `s3:9000` (MinIO's API port) become the test's own services. Any
 *    other `<service>:<port>` (a wrong port, a service this test does not map) is an error.
 *  - volumes: a named volume is one folder shared by every service that mounts it (as in Docker):
 *    an absolute path in the environment under a mount target moves into that folder; one under
 *    /app into the repository; any other absolute path would be the container's own, unshared
 *    filesystem, so it is an error.
 *  - ports: each container has its own network, so every role listens on 8080 or 9464 there; here
 *    LAMBDA_HTTP_PORT and LAMBDA_METRICS_PORT get free ports, on loopback (LAMBDA_HTTP_HOST 0.0.0.0
 *    is for Docker's published ports, which do not exist here).
 *  - isolation: a topic and key prefix of the test's own (LAMBDA_TOPIC, LAMBDA_KEY_PREFIX), so the
 *    stack shares the broker and Redis with other tests without meeting their data.
 * Variable names are checked against the settings lambda-arch reads (platform/config.ts): the
 * service ignores an unknown name silently and runs on the default, so a misspelt variable would
 * otherwise pass (the defaults even point at this machine's Kafka and Redis).
 */
import { parse } from 'yaml';
import { settingsTable } from '../../platform/config.js';

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: unknown;
  profiles?: string[];
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** The test's own services and places, that the compose file's names are mapped to. */
export interface LocalTargets {
  kafkaBrokers: readonly string[];
  redisUrl: string;
  s3Endpoint: string;
  /** the repository: the image's WORKDIR holds a copy of it */
  repoRoot: string;
  /** a folder per named volume is made under it */
  volumesDir: string;
  /** topic and key prefix of this stack */
  uniqueName: string;
  /** a free TCP port for each listening setting of each service */
  freePort: () => Promise<number>;
  /** PATH for the children (bin/lambda-arch runs `node`) */
  path: string;
}

export interface LocalService {
  name: string;
  /** arguments of bin/lambda-arch */
  args: string[];
  env: Record<string, string>;
  /** http://127.0.0.1:<port> for LAMBDA_HTTP_PORT (serve) or LAMBDA_METRICS_PORT (other roles) */
  httpUrl: string | null;
  metricsUrl: string | null;
  /** the folders of the named volumes it mounts */
  volumeDirs: string[];
}

/** The error every translation failure throws: it names the service and what is wrong with it. */
export class ComposeServiceError extends Error {
  constructor(
    readonly service: string,
    problem: string,
  ) {
    super(`docker-compose.yml service "${service}": ${problem}`);
  }
}

/**
 * The compose text with `from` replaced by `to` inside one service's block only: the mistakes the
 * tests of this translation make on purpose. Throws when the block has no `from` (the file changed).
 */
export function mutateService(text: string, service: string, from: string, to: string): string {
  const start = text.indexOf(`\n  ${service}:\n`);
  const next = text.slice(start + 1).search(/\n {0,2}\S/);
  const end = next < 0 ? text.length : start + 1 + next;
  const block = text.slice(start, end);
  if (start < 0 || !block.includes(from)) throw new Error(`docker-compose.yml: service ${service} has no ${JSON.stringify(from)} to change`);
  return text.slice(0, start) + block.replace(from, to) + text.slice(end);
}

export function parseCompose(text: string): ComposeFile {
  // merge: the file shares the roles' environment through YAML anchors and `<<:` merge keys.
  return parse(text, { merge: true }) as ComposeFile;
}

/** WORKDIR and ENTRYPOINT (exec form) of the Dockerfile. */
export function imageOf(dockerfile: string): { workdir: string; entrypoint: string[] } {
  const workdir = /^WORKDIR\s+(\S+)/m.exec(dockerfile)?.[1];
  const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
  if (!workdir || !entry) throw new Error('Dockerfile: expected a WORKDIR and an exec-form ENTRYPOINT ["..."]');
  return { workdir, entrypoint: JSON.parse(entry) as string[] };
}

/**
 * The services built from this repository's Dockerfile (Kafka, Redis, MinIO, Prometheus are images
 * of others) that `docker compose up` starts: none of a profile (`scale` needs a Kafka cluster and
 * a Redis Cluster, whose host names this translation does not map).
 */
export function applicationServices(compose: ComposeFile): string[] {
  return Object.entries(compose.services)
    .filter(([, svc]) => svc.build !== undefined && !svc.profiles?.length)
    .map(([name]) => name);
}

const KNOWN_SETTINGS = new Set(settingsTable().map((s) => s.name));
const LISTEN_SETTINGS = ['LAMBDA_HTTP_PORT', 'LAMBDA_METRICS_PORT'] as const;

/** `host:port` in the compose network -> the local address, for Kafka, Redis and S3. */
function hostMap(compose: ComposeFile, t: LocalTargets): { exact: Map<string, string>; hosts: Map<string, string> } {
  const s = compose.services;
  const hosts = new Map<string, string>();
  const exact = new Map<string, string>();
  const advertised = /PLAINTEXT:\/\/([^,\s]+)/.exec(s.kafka?.environment?.KAFKA_ADVERTISED_LISTENERS ?? '')?.[1];
  if (advertised) hosts.set(advertised, t.kafkaBrokers.join(','));
  if (s.redis) {
    const cmd = s.redis.command ?? [];
    const port = cmd.includes('--port') ? cmd[cmd.indexOf('--port') + 1] : '6379';
    const local = new URL(t.redisUrl);
    hosts.set(`redis:${port}`, local.host);
    // The whole URL too, so that a password or database number of the test's Redis is kept.
    exact.set(`redis://redis:${port}`, t.redisUrl.replace(/\/$/, ''));
  }
  if (s.s3) hosts.set('s3:9000', new URL(t.s3Endpoint).host);
  return { exact, hosts };
}

function mapHosts(service: string, key: string, value: string, compose: ComposeFile, map: ReturnType<typeof hostMap>): string {
  let v = value;
  for (const [from, to] of map.exact) if (v === from || v.startsWith(`${from}/`)) v = to + v.slice(from.length);
  return v.replace(/\b([a-z][a-z0-9_-]*):(\d+)\b/g, (token: string, host: string) => {
    const local = map.hosts.get(token);
    if (local) return local;
    if (compose.services[host] === undefined) return token; // not a compose host name
    const listens = [...map.hosts.keys()].filter((k) => k.startsWith(`${host}:`));
    throw new ComposeServiceError(
      service,
      `${key}=${value} names ${token}, but ${listens.length ? `${host} answers clients on ${listens.join(', ')}` : `this test does not map ${host}`}`,
    );
  });
}

/** Named volumes (not bind mounts of the repository's files) as [name, mount target]. */
function namedVolumes(svc: ComposeService): [string, string][] {
  return (svc.volumes ?? [])
    .map((mount) => mount.split(':'))
    .filter((parts): parts is [string, string] => parts.length >= 2 && /^[a-zA-Z0-9]/.test(parts[0] ?? ''))
    .map(([source, target]) => [source, target]);
}

function mapPath(service: string, key: string, value: string, svc: ComposeService, workdir: string, t: LocalTargets): string {
  if (!value.startsWith('/')) return value;
  for (const [source, target] of namedVolumes(svc)) {
    if (value === target || value.startsWith(`${target}/`)) return `${t.volumesDir}/${source}${value.slice(target.length)}`;
  }
  if (value === workdir || value.startsWith(`${workdir}/`)) return `${t.repoRoot}${value.slice(workdir.length)}`;
  throw new ComposeServiceError(service, `${key}=${value} is a path outside its volumes: each container would have its own, unshared copy`);
}

/** `ports:` publishes a container port: the service must listen there, or the published port answers nothing. */
function checkPublishedPorts(name: string, svc: ComposeService, containerEnv: Record<string, string>): void {
  const listening = LISTEN_SETTINGS.map((k) => containerEnv[k]);
  for (const published of svc.ports ?? []) {
    const containerPort = published.split(':').at(-1)?.split('/')[0];
    if (!listening.includes(containerPort))
      throw new ComposeServiceError(name, `publishes container port ${containerPort}, where it does not listen (${LISTEN_SETTINGS.join(', ')})`);
  }
}

/** The local translation of one application service (see the header for the mapping). */
export async function localService(name: string, compose: ComposeFile, dockerfile: string, t: LocalTargets): Promise<LocalService> {
  const svc = compose.services[name];
  if (!svc) throw new ComposeServiceError(name, 'no such service');
  const image = imageOf(dockerfile);
  const entrypoint = svc.entrypoint ?? image.entrypoint;
  if (entrypoint.length !== 1 || entrypoint[0] !== `${image.workdir}/bin/lambda-arch`) {
    throw new ComposeServiceError(name, `entrypoint ${JSON.stringify(entrypoint)} is not the image's ${image.workdir}/bin/lambda-arch`);
  }
  const command = svc.command;
  if (!command?.length) throw new ComposeServiceError(name, 'no command: the image would print --help and exit');

  const hosts = hostMap(compose, t);
  const env: Record<string, string> = {};
  for (const [key, raw] of Object.entries(svc.environment ?? {})) {
    if (!KNOWN_SETTINGS.has(key))
      throw new ComposeServiceError(name, `${key} is not a setting lambda-arch reads (platform/config.ts): it would be ignored and its default used`);
    env[key] = mapPath(name, key, mapHosts(name, key, String(raw), compose, hosts), svc, image.workdir, t);
  }
  // serve listens on 8080 in its container when the file does not say; here it needs a port of its own.
  if (command[0] === 'serve') env.LAMBDA_HTTP_PORT ??= '8080';
  checkPublishedPorts(name, svc, env);
  const ports: Partial<Record<(typeof LISTEN_SETTINGS)[number], number>> = {};
  for (const key of LISTEN_SETTINGS) {
    if (env[key] === undefined || env[key] === '0') continue;
    ports[key] = await t.freePort();
    env[key] = String(ports[key]);
  }
  if (env.LAMBDA_HTTP_HOST !== undefined) env.LAMBDA_HTTP_HOST = '127.0.0.1';
  const url = (port: number | undefined) => (port === undefined ? null : `http://127.0.0.1:${port}`);
  return {
    name,
    args: [...command],
    env: { PATH: t.path, HOME: t.volumesDir, ...env, LAMBDA_TOPIC: t.uniqueName, LAMBDA_KEY_PREFIX: t.uniqueName },
    httpUrl: url(ports.LAMBDA_HTTP_PORT),
    metricsUrl: url(ports.LAMBDA_METRICS_PORT),
    volumeDirs: namedVolumes(svc).map(([source]) => `${t.volumesDir}/${source}`),
  };
}
