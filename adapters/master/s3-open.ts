/** Opening an `s3://` master dataset: the URL names bucket and prefix; the settings say how to reach it. */
import { LambdaError } from '../../shared/errors.js';
import type { S3Settings } from './s3-client.js';
import { parseS3Url } from './s3-location.js';
import { S3MasterDataset } from './s3-master-dataset.js';

export function openS3MasterDataset(url: string, settings: S3Settings | undefined): S3MasterDataset {
  const location = parseS3Url(url);
  if (settings === undefined) {
    throw new LambdaError('CONFIG_INVALID', `LAMBDA_MASTER_URL=${JSON.stringify(url)}: opening an S3 master dataset needs the S3 settings (LAMBDA_S3_*)`);
  }
  return new S3MasterDataset(location, settings);
}
