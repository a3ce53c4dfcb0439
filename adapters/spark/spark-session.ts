/**
 * One Spark session for one batch run (issue 17): the driver of services/spark (a java process,
 * BatchDriver.java) started with the run's settings, sent one JSON command per line on stdin,
 * answering one JSON line per command on stdout. The driver holds no logic of the job: every
 * statement comes from shared/sql/ (docs/design-decisions.md, "Batch engines").
 *
 * The process belongs to the run: the run's AbortSignal (a lost lease, SIGTERM of the service)
 * kills it at once (SIGKILL: nothing of a killed run is kept, and the JVM's shutdown hooks would
 * only delay it), and so does any way out of the run (close()). If Node dies first, the driver
 * sees its stdin end and stops when its current statement is done.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LambdaError } from '../../shared/errors.js';

export interface SparkSessionOptions {
  /** services/spark: jvm.options, log4j2.properties, target/ (scripts/spark.sh builds it) */
  home: string;
  /** LAMBDA_SPARK_MASTER: local[*], local[N] or spark://host:port */
  master: string;
  /** the driver JVM's heap, MiB */
  heapMb: number;
  /** shuffle partitions: a small job on few cores gains nothing from Spark's default 200 */
  shufflePartitions: number;
  /** Spark's scratch (spark.local.dir, java.io.tmpdir), inside the run's work dir */
  scratchDir: string;
  /**
   * Hadoop settings for the session (s3a's endpoint and keys), sent on stdin after start: never
   * on the JVM's command line (visible to every user of the machine) and never logged.
   */
  hadoop?: Record<string, string>;
}

/** What the driver reports at start: the master it runs on and the application id it got. */
export interface SparkApp {
  master: string;
  /** `local-...` in local mode, `app-...` on a standalone cluster (its master's /json lists it) */
  id: string;
}

interface Reply {
  ok: boolean;
  rows?: number;
  error?: string;
  version?: string;
  master?: string;
  app?: string;
}

/** Lines of the driver's stderr kept for the error of a failed run. */
const STDERR_TAIL = 30;

export class SparkSession {
  /** the driver process's pid (tests kill it to crash a run) */
  readonly pid: number;
  /** set once the driver is up */
  app: SparkApp = { master: '', id: '' };
  private readonly replies: AsyncIterator<string>;
  private readonly stderr: string[] = [];
  private readonly exited: Promise<void>;
  private exitCode: number | null = null;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly signal: AbortSignal,
  ) {
    this.pid = child.pid as number;
    this.replies = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    createInterface({ input: child.stderr }).on('line', (l) => {
      this.stderr.push(l);
      if (this.stderr.length > STDERR_TAIL) this.stderr.shift();
    });
    this.exited = new Promise((resolve) => child.once('close', (code) => ((this.exitCode = code), resolve())));
    signal.addEventListener('abort', this.kill, { once: true });
    // Writing to a driver that died (killed, crashed) fails with EPIPE: the failure is reported
    // by the reply that never comes (reply()), not as an unhandled stream error.
    child.stdin.on('error', () => undefined);
  }

  /** Starts the driver and waits until its SparkSession is up. */
  static async start(opts: SparkSessionOptions, signal: AbortSignal): Promise<SparkSession> {
    signal.throwIfAborted();
    const jar = join(opts.home, 'target', 'spark-batch-driver-1.0.0.jar');
    if (!existsSync(join(opts.home, 'target', '.complete')) || !existsSync(jar)) {
      throw new LambdaError('CONFIG_INVALID', `the spark batch engine needs its driver built: run bash scripts/spark.sh (looked in ${opts.home}/target)`);
    }
    // In local mode, and for a cluster on this machine (the tests' spark-standalone), the driver
    // listens on loopback only, where the executors reach it; for a remote cluster Spark's default
    // (this host's name) is what executors can resolve.
    const loopback = opts.master.startsWith('local') || /^spark:\/\/(127\.0\.0\.1|localhost):/.test(opts.master);
    const args = [
      `@${join(opts.home, 'jvm.options')}`,
      `-Xmx${opts.heapMb}m`,
      // C1 only: a run is mostly planning and many small jobs, whose JIT work C2 never repays
      // (a 3,000-event run: 37 s and 43 CPU-s with C2, 31 s and 28 CPU-s without). A run over
      // much larger files may want C2 back: measure with bench/batch/engines.ts.
      '-XX:TieredStopAtLevel=1',
      `-Dlog4j2.configurationFile=${join(opts.home, 'log4j2.properties')}`,
      `-Djava.io.tmpdir=${opts.scratchDir}`,
      `-Dspark.master=${opts.master}`,
      '-Dspark.ui.enabled=false',
      // Lenient casts and arithmetic, like DuckDB's TRY_ functions (shared/sql/spark-dialect.ts).
      '-Dspark.sql.ansi.enabled=false',
      // Every file one partition of its own, whole (gzip never splits; a plain staged file must
      // not either): the row within the partition is the line number (BatchDriver "lines").
      '-Dspark.sql.files.maxPartitionBytes=1099511627776',
      '-Dspark.sql.files.openCostInBytes=1099511627776',
      `-Dspark.sql.shuffle.partitions=${opts.shufflePartitions}`,
      // Interpreted, not compiled: the validation's wide expressions took Janino longer to compile
      // than Spark took to run them (a 4,000-line run: 158 s compiled, 72 s interpreted).
      '-Dspark.sql.codegen.wholeStage=false',
      '-Dspark.sql.codegen.factoryMode=NO_CODEGEN',
      // lower() through Java, not ICU: the generator lowers only number tokens (ASCII), and ICU's
      // first use cost seconds.
      '-Dspark.sql.icu.caseMappings.enabled=false',
      `-Dspark.local.dir=${opts.scratchDir}`,
      `-Dspark.sql.warehouse.dir=${join(opts.scratchDir, 'warehouse')}`,
      ...(loopback ? ['-Dspark.driver.host=127.0.0.1', '-Dspark.driver.bindAddress=127.0.0.1'] : []),
      '-cp',
      `${join(opts.home, 'target', 'lib', '*')}:${jar}`,
      'dev.lambdaarch.spark.BatchDriver',
    ];
    const child = spawn('java', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const session = new SparkSession(child, signal);
    child.once('error', () => undefined); // reported as the missing ready line below
    const ready = await session.reply();
    if (ready.version === undefined) throw session.failure('did not start');
    session.app = { master: ready.master ?? opts.master, id: ready.app ?? '' };
    if (opts.hadoop !== undefined) {
      try {
        await session.send({ op: 'hadoop', conf: opts.hadoop });
      } catch (err) {
        await session.close();
        throw err;
      }
    }
    return session;
  }

  /** Sends one command and waits for its reply; a failed command fails the run. Returns the rows it reports. */
  async send(command: Record<string, unknown>): Promise<number> {
    this.signal.throwIfAborted();
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
    const reply = await this.reply();
    if (!reply.ok) throw new LambdaError('INTERNAL', `Spark ${String(command.op)} failed: ${reply.error ?? 'no message'}`);
    return reply.rows ?? 0;
  }

  private async reply(): Promise<Reply> {
    const next = await this.replies.next();
    this.signal.throwIfAborted(); // a killed driver's missing reply is the abort, not a failure
    if (next.done === true) {
      await this.exited;
      throw this.failure(`exited (code ${String(this.exitCode)})`);
    }
    return JSON.parse(next.value as string) as Reply;
  }

  private failure(what: string): LambdaError {
    return new LambdaError('INTERNAL', `the Spark driver ${what}: ${this.stderr.slice(-8).join(' | ')}`);
  }

  private readonly kill = () => {
    if (this.exitCode === null) this.child.kill('SIGKILL');
  };

  /** Ends the session: a polite stop when it is idle, else a kill; waits for the process to go. */
  async close(): Promise<void> {
    this.signal.removeEventListener('abort', this.kill);
    if (this.exitCode === null && this.child.stdin.writable) this.child.stdin.end(`${JSON.stringify({ op: 'stop' })}\n`);
    const stopped = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(r, 10_000, false).unref())]);
    if (!stopped) {
      this.kill();
      await this.exited;
    }
  }
}
