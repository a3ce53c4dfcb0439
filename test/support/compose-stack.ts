/**
 * Runs the application services of a docker-compose.yml as local `bin/lambda-arch` processes
 * (translated by compose-local.ts) against the test's Kafka, Redis and S3, and watches them: a
 * service that exits, or never becomes ready, fails the test with a message naming it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { ROOT, startCli, runCli, type CliProcess } from './cli-process.js';
import { probe } from './cli-http.js';
import { deleteTopics, testKafka } from './archiver-kafka.js';
import { deletePrefix } from './speed-harness.js';
import { freePort } from './free-port.js';
import { uniqueName } from './names.js';
import { waitUntil, type WaitOptions } from './wait.js';
import { ComposeServiceError, localService, parseCompose, type ComposeFile, type LocalService, type LocalTargets } from './compose-local.js';

export const COMPOSE_TEXT = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
export const DOCKERFILE_TEXT = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

const OUTPUT_TAIL = 2_000;

function tail(p: CliProcess): string {
  return `stdout:\n${p.stdout.slice(-OUTPUT_TAIL)}\nstderr:\n${p.stderr.slice(-OUTPUT_TAIL)}`;
}

export class ComposeStack {
  readonly running = new Map<string, { service: LocalService; proc: CliProcess }>();
  /** rejects, naming the service, as soon as a started service exits */
  private readonly died: Promise<never>;
  private reportDeath: (err: Error) => void = () => undefined;

  private constructor(
    readonly compose: ComposeFile,
    private readonly dockerfile: string,
    readonly targets: LocalTargets,
  ) {
    this.died = new Promise<never>((_, reject) => (this.reportDeath = reject));
    this.died.catch(() => undefined); // observed through waitFor(); not an unhandled rejection meanwhile
  }

  /** A stack over the given compose text (a mutated copy in the tests of the test itself) and the test's services. */
  static create(composeText = COMPOSE_TEXT, dockerfileText = DOCKERFILE_TEXT): ComposeStack {
    const services = inject('services');
    const volumesDir = mkdtempSync(join(tmpdir(), 'lambda-compose-'));
    return new ComposeStack(parseCompose(composeText), dockerfileText, {
      kafkaBrokers: services.kafkaBrokers,
      redisUrl: services.redisUrl,
      s3Endpoint: services.s3Endpoint,
      repoRoot: ROOT,
      volumesDir,
      uniqueName: uniqueName('compose'),
      freePort,
      // bin/lambda-arch runs `node`: the one running the tests comes first on the PATH.
      path: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    });
  }

  /** The local translation of a service (throws ComposeServiceError naming it when there is none). */
  translate(name: string): Promise<LocalService> {
    return localService(name, this.compose, this.dockerfile, this.targets);
  }

  /**
   * Starts the long-running services and waits until each is ready: serve's /readyz answers 200,
   * the other roles' /livez on their metrics port (started after the role itself).
   */
  async start(names: readonly string[], timeoutMs = 60_000): Promise<void> {
    const translated = await Promise.all(names.map((n) => this.translate(n)));
    // The working directory is the stack's temporary folder, not the repository (the image's /app):
    // a relative path in the file then never writes into the working tree.
    for (const service of translated) {
      for (const dir of service.volumeDirs) mkdirSync(dir, { recursive: true }); // Docker makes a named volume on first use
      const proc = startCli(service.args, service.env, { cwd: this.targets.volumesDir });
      this.running.set(service.name, { service, proc });
      void proc.exited.then((r) =>
        this.reportDeath(
          new ComposeServiceError(service.name, `\`lambda-arch ${service.args.join(' ')}\` exited (code ${r.code}, signal ${r.signal})\n${tail(proc)}`),
        ),
      );
    }
    for (const service of translated) {
      const url = service.httpUrl ? `${service.httpUrl}/readyz` : service.metricsUrl ? `${service.metricsUrl}/livez` : null;
      if (!url) throw new ComposeServiceError(service.name, 'listens on no port (LAMBDA_HTTP_PORT, LAMBDA_METRICS_PORT) where the test could see it ready');
      await this.waitFor(
        () => probe(url),
        (s) => s === 200,
        { what: `service "${service.name}" to answer ${url}`, timeoutMs },
      );
    }
  }

  /** Runs a service's command to its end with extra arguments (the generator, bounded). */
  async run(name: string, extraArgs: readonly string[], timeoutMs = 60_000): Promise<string> {
    const service = await this.translate(name);
    for (const dir of service.volumeDirs) mkdirSync(dir, { recursive: true });
    const result = await runCli([...service.args, ...extraArgs], service.env, { cwd: this.targets.volumesDir, timeoutMs });
    if (result.code !== 0)
      throw new ComposeServiceError(
        name,
        `\`lambda-arch ${[...service.args, ...extraArgs].join(' ')}\` exited ${result.code}\nstderr:\n${result.stderr.slice(-OUTPUT_TAIL)}`,
      );
    return result.stdout;
  }

  /** The URL of a running service's HTTP API. */
  url(name: string): string {
    const url = this.running.get(name)?.service.httpUrl;
    if (!url) throw new Error(`service "${name}" is not running, or serves no HTTP API`);
    return url;
  }

  /** waitUntil, failing at once, naming the service, when one of the stack's processes exits. */
  waitFor<T>(probeFn: () => Promise<T> | T, done: (v: T) => boolean, opts: WaitOptions): Promise<T> {
    return Promise.race([waitUntil(probeFn, done, opts), this.died]);
  }

  /** Only the topics that exist: kafkajs retries a delete of an unknown topic for seconds. */
  private async deleteTopics(topics: string[]): Promise<void> {
    const kafka = testKafka(this.targets.kafkaBrokers);
    const admin = kafka.admin();
    await admin.connect();
    const existing = await admin.listTopics().finally(() => admin.disconnect());
    const ours = topics.filter((t) => existing.includes(t));
    if (ours.length > 0) await deleteTopics(kafka, ours);
  }

  /** SIGKILLs the processes, deletes the topic, the Redis keys and the volumes' folder. */
  async stop(): Promise<void> {
    const procs = [...this.running.values()].map((r) => r.proc);
    for (const p of procs) p.signal('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    const topic = this.targets.uniqueName;
    await this.deleteTopics([topic, `${topic}.dlq`]);
    const redis = new Redis(this.targets.redisUrl, { maxRetriesPerRequest: 1 });
    await deletePrefix(redis, topic).finally(() => redis.disconnect());
    rmSync(this.targets.volumesDir, { recursive: true, force: true });
  }
}
