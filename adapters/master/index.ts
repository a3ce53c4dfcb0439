/** Opens the master dataset named by `config.masterUrl`, picking the adapter by URL scheme. */
import { fileURLToPath } from 'node:url';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';
import { LambdaError } from '../../shared/errors.js';
import type { MasterDataset } from '../../shared/ports.js';
import { LocalMasterDataset } from './local-master-dataset.js';
import { openS3MasterDataset } from './s3-open.js';

export { LocalMasterDataset } from './local-master-dataset.js';
export { asSegmentConflict, type SegmentConflict } from './segment-conflict.js';
export { S3MasterDataset, MULTIPART_THRESHOLD_BYTES } from './s3-master-dataset.js';
export { parseS3Url, type S3Location } from './s3-location.js';

/**
 * Where the master dataset is: its URL, and for `s3://` the S3 settings (endpoint, region,
 * credentials...). Plain data, so the batch layer's map workers receive it too.
 */
export type MasterLocation = Pick<Config, 'masterUrl'> & Partial<Pick<Config, 's3'>>;

export function openMasterDataset(config: MasterLocation, log: Logger): MasterDataset {
  const url = config.masterUrl;
  if (url.startsWith('file://')) {
    let root: string;
    try {
      root = fileURLToPath(url);
    } catch (err) {
      throw new LambdaError('CONFIG_INVALID', `LAMBDA_MASTER_URL=${JSON.stringify(url)}: ${(err as Error).message}`, { cause: err });
    }
    log.debug({ master: url }, 'master dataset: local files');
    return new LocalMasterDataset(root, url);
  }
  if (url.startsWith('s3://')) {
    const master = openS3MasterDataset(url, config.s3);
    log.debug({ master: master.describe(), endpoint: config.s3?.endpoint ?? null, region: config.s3?.region }, 'master dataset: S3');
    return master;
  }
  throw new LambdaError('CONFIG_INVALID', `LAMBDA_MASTER_URL=${JSON.stringify(url)}: must be file:///absolute/path or s3://bucket/prefix`);
}

/**
 * Opens the master dataset and checks it can be used (MasterDataset.verify): what a role calls at
 * start, so a wrong setting fails there with a LambdaError naming it (CONFIG_INVALID or
 * DEPENDENCY_DOWN), not half-way through its first run.
 */
export async function openVerifiedMasterDataset(config: MasterLocation, log: Logger): Promise<MasterDataset> {
  const master = openMasterDataset(config, log);
  await master.verify?.();
  log.info({ master: master.describe() }, 'master dataset verified');
  return master;
}
