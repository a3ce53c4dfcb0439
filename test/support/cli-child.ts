/**
 * The real CLI as a child process: `cli/main.ts` with the flags bin/lambda-arch gives Node (the
 * bash wrapper itself is skipped so that the child's pid is Node's, and SIGKILL lands on the
 * process doing the work). Crash tests spawn roles through this, the entry users run, instead of
 * side entries wired differently (docs/design-decisions.md, Ports).
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Starts `lambda-arch <args...>` with exactly `env` (nothing inherited: every setting is explicit). */
export function spawnCli(args: readonly string[], env: Record<string, string>, stdio: StdioOptions = ['ignore', 'pipe', 'pipe']): ChildProcess {
  return spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', 'cli/main.ts', ...args], { cwd: REPO_ROOT, env, stdio });
}
