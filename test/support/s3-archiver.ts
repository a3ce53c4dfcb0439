/**
 * The archiver as a child process writing to an S3 master dataset: the environment of
 * archiver-process.ts plus the S3 settings, with the S3 endpoint replaceable (the crash test puts
 * a fault proxy in between to kill the archiver right after S3 stored a segment).
 */
import type { Config } from '../../platform/config.js';
import { archiverEnv, spawnArchiverWith, type ArchiverProcess } from './archiver-process.js';
import { s3Env } from './s3-bucket.js';

export function spawnS3Archiver(config: Config, dataDir: string, logPath: string, endpoint: string): ArchiverProcess {
  return spawnArchiverWith({ ...archiverEnv(config, dataDir), ...s3Env(config, endpoint) }, logPath);
}
