/**
 * The project's local Spark standalone cluster (scripts/spark.sh: one master on 127.0.0.1:7177, web
 * UI 18180, and one worker of 1 core) for the spark:// tests. Started by the test that needs it
 * through `scripts/services.sh up spark-standalone` (idempotent), and stopped again by `stop()`
 * only if this test started it: two JVMs are too heavy to keep around on a shared 2-core machine.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

export interface SparkStandalone {
  /** spark://127.0.0.1:7177 */
  master: string;
  /** the master's web UI, whose /json/ is its state */
  ui: string;
  stop(): Promise<void>;
}

/** One application in the master's state. */
export interface StandaloneApp {
  id: string;
  name: string;
  state: string;
}

async function services(...args: string[]): Promise<string> {
  const { stdout } = await run('bash', ['scripts/services.sh', ...args], { cwd: root, encoding: 'utf8', timeout: 300_000, maxBuffer: 1 << 20 });
  return stdout;
}

export async function startSparkStandalone(): Promise<SparkStandalone> {
  const wasUp = (await services('status', 'spark-standalone')).startsWith('spark-standalone: up');
  const printed = Object.fromEntries(
    (await services('up', 'spark-standalone'))
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const master = printed.SPARK_MASTER;
  const ui = printed.SPARK_MASTER_UI;
  if (master === undefined || ui === undefined) throw new Error('scripts/services.sh up spark-standalone printed no SPARK_MASTER / SPARK_MASTER_UI');
  return {
    master,
    ui,
    stop: async () => {
      if (!wasUp) await services('down', 'spark-standalone');
    },
  };
}

/** The applications the master has finished (its /json/ `completedapps`). */
export async function completedApps(ui: string): Promise<StandaloneApp[]> {
  const res = await fetch(`${ui}/json/`);
  if (!res.ok) throw new Error(`${ui}/json/ answered ${res.status}`);
  const state = (await res.json()) as { completedapps?: StandaloneApp[] };
  return state.completedapps ?? [];
}
