/**
 * The archiver as a child process writing to an S3 master dataset: the environment of
 * archiver-process.ts plus the S3 settings, with the S3 endpoint replaceable (the crash test puts
 * a fault proxy in between to kill the archiver right after S3 stored a segment).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../platform/config.js';
import { archiverEnv, type ArchiverProcess } from './archiver-process.js';
import { s3Env } from './s3-bucket.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export function spawnS3Archiver(config: Config, dataDir: string, logPath: string, endpoint: string): ArchiverProcess {
  const out = openSync(logPath, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'batch-layer/archiver/main.ts'], {
    cwd: root,
    env: { ...archiverEnv(config, dataDir), ...s3Env(config, endpoint) },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}
