/**
 * Opens the master dataset inside a batch map worker (a worker_threads entry, which receives only
 * plain data): the batch layer's worker imports this module by the URL in its WorkerMasterRef
 * (shared/batch/ports.ts) and calls `openWorkerMaster` with the location. cli/ builds the ref with
 * `workerMasterRef`; the batch layer never names this file (docs/design-decisions.md, "Ports").
 */
import { fileURLToPath } from 'node:url';
import type { WorkerMasterModule, WorkerMasterRef } from '../../shared/batch/ports.js';
import type { MasterDataset } from '../../shared/ports.js';
import type { MasterLocation } from './index.js';
import { LocalMasterDataset } from './local-master-dataset.js';

/** The ref a map worker opens `location` by: this module, and the location as plain data. */
export function workerMasterRef(location: MasterLocation): WorkerMasterRef {
  return { moduleUrl: import.meta.url, location: { masterUrl: location.masterUrl, s3: location.s3 } };
}

/**
 * A local dataset opens directly; anything else through the URL dispatch of index.ts, imported only
 * then: it loads the S3 SDK, a good part of a worker's start-up time that a local run never needs.
 */
export const openWorkerMaster: WorkerMasterModule['openWorkerMaster'] = async (location): Promise<MasterDataset> => {
  const loc = location as MasterLocation;
  if (loc.masterUrl.startsWith('file:///')) return new LocalMasterDataset(fileURLToPath(loc.masterUrl), loc.masterUrl);
  const [{ openMasterDataset }, { silentLogger }] = await Promise.all([import('./index.js'), import('../../platform/logger.js')]);
  return openMasterDataset(loc, silentLogger());
};
