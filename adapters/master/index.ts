/** Opens the master dataset named by `config.masterUrl`, picking the adapter by URL scheme. */
import { fileURLToPath } from 'node:url';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';
import { LambdaError } from '../../shared/errors.js';
import type { MasterDataset } from '../../shared/ports.js';
import { LocalMasterDataset } from './local-master-dataset.js';

export { LocalMasterDataset } from './local-master-dataset.js';
export { arrivalComplete, type TopicPartitions } from './arrival-complete.js';
export * from './layout.js';

export function openMasterDataset(config: Pick<Config, 'masterUrl'>, log: Logger): MasterDataset {
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
    throw new LambdaError('CONFIG_INVALID', 'S3 master dataset not available yet', { details: { masterUrl: url } });
  }
  throw new LambdaError('CONFIG_INVALID', `LAMBDA_MASTER_URL=${JSON.stringify(url)}: must be file:///absolute/path or s3://bucket/prefix`);
}
