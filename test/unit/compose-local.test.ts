/**
 * The translation of docker-compose.yml's services into local processes (test/support/compose-local.ts),
 * which test/integration/compose-stack.test.ts runs: what each mapping produces for the real file,
 * and that each kind of mistake in the file is an error naming the service. No processes here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applicationServices, localService, mutateService, parseCompose, type LocalTargets } from '../support/compose-local.js';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const COMPOSE = read('docker-compose.yml');
const DOCKERFILE = read('Dockerfile');

let nextPort = 40_000;
const targets: LocalTargets = {
  kafkaBrokers: ['127.0.0.1:19092', '127.0.0.1:19093'],
  redisUrl: 'redis://:secret@127.0.0.1:16380/2',
  s3Endpoint: 'http://127.0.0.1:19000',
  repoRoot: '/repo',
  volumesDir: '/tmp/stack',
  uniqueName: 'compose-test',
  freePort: () => Promise.resolve(nextPort++),
  path: '/usr/bin:/bin',
};

const mutate = (service: string, from: string, to: string) => mutateService(COMPOSE, service, from, to);
const translate = (name: string, text = COMPOSE, dockerfile = DOCKERFILE) => localService(name, parseCompose(text), dockerfile, targets);

describe('docker-compose.yml as local processes', () => {
  it('runs the services `docker compose up` starts that are built from this repository, each translated', async () => {
    const names = applicationServices(parseCompose(COMPOSE));
    expect([...names].sort()).toEqual(['archiver', 'batch', 'generator', 'serve', 'speed']);
    for (const name of names) expect((await translate(name)).args[0], name).toBe(parseCompose(COMPOSE).services[name]?.command?.[0]);
  });

  it("maps the image's command, the host names, the volume, the ports and the listen address", async () => {
    const serve = await translate('serve');
    expect(serve.args).toEqual(['serve']);
    expect(serve.env.KAFKA_BROKERS).toBe('127.0.0.1:19092,127.0.0.1:19093');
    expect(serve.env.REDIS_URL, 'the whole URL: password and database kept').toBe('redis://:secret@127.0.0.1:16380/2');
    expect(serve.env.LAMBDA_DATA_DIR).toBe('/tmp/stack/lambda-data');
    expect(serve.volumeDirs).toEqual(['/tmp/stack/lambda-data']);
    expect(serve.env.LAMBDA_HTTP_HOST).toBe('127.0.0.1');
    expect(serve.httpUrl).toBe(`http://127.0.0.1:${serve.env.LAMBDA_HTTP_PORT}`);
    expect(serve.env.LAMBDA_HTTP_PORT).not.toBe('8080');
    expect(serve.env).toMatchObject({ LAMBDA_TOPIC: 'compose-test', LAMBDA_KEY_PREFIX: 'compose-test', LAMBDA_ADMIN_TOKEN: 'change-me-admin-token' });
    const speed = await translate('speed');
    expect(speed.metricsUrl).toBe(`http://127.0.0.1:${speed.env.LAMBDA_METRICS_PORT}`);
    expect(speed.env.LAMBDA_METRICS_PORT, 'each role a port of its own (one network here, not one per container)').not.toBe(
      (await translate('archiver')).env.LAMBDA_METRICS_PORT,
    );
  });

  it('maps a path under the image WORKDIR to the repository', async () => {
    const text = mutate('speed', 'LAMBDA_METRICS_PORT: "9464"', 'LAMBDA_METRICS_PORT: "9464"\n      LAMBDA_VIEWS_FILE: /app/views.json');
    expect((await translate('speed', text)).env.LAMBDA_VIEWS_FILE).toBe('/repo/views.json');
  });

  it('names the service of a misspelt variable, which lambda-arch would silently ignore', async () => {
    await expect(translate('speed', mutate('speed', 'LAMBDA_METRICS_PORT:', 'LAMBDA_METRIC_PORT:'))).rejects.toThrow(
      'service "speed": LAMBDA_METRIC_PORT is not a setting',
    );
  });

  it('names the service of a host:port the compose network does not answer on', async () => {
    await expect(translate('archiver', COMPOSE.replace('KAFKA_BROKERS: kafka:9092', 'KAFKA_BROKERS: kafka:9093'))).rejects.toThrow(
      'service "archiver": KAFKA_BROKERS=kafka:9093 names kafka:9093, but kafka answers clients on kafka:9092',
    );
  });

  it('names the service of a path outside its volumes (each container would have its own)', async () => {
    await expect(
      translate('batch', mutate('batch', 'LAMBDA_METRICS_PORT: "9464"', 'LAMBDA_METRICS_PORT: "9464"\n      LAMBDA_DATA_DIR: /var/lambda')),
    ).rejects.toThrow('service "batch": LAMBDA_DATA_DIR=/var/lambda is a path outside its volumes');
  });

  it('names the service that publishes a port it does not listen on', async () => {
    await expect(translate('serve', mutate('serve', '"8080:8080"', '"8080:8081"'))).rejects.toThrow('service "serve": publishes container port 8081');
  });

  it('names the service whose entrypoint is not the image lambda-arch, or that has no command', async () => {
    await expect(translate('speed', mutate('speed', 'command: ["speed"]', 'entrypoint: ["/usr/bin/node"]\n    command: ["speed"]'))).rejects.toThrow(
      'service "speed": entrypoint ["/usr/bin/node"]',
    );
    await expect(translate('speed', mutate('speed', '    command: ["speed"]\n', ''))).rejects.toThrow('service "speed": no command');
  });
});
