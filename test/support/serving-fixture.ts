/**
 * The end of a serving test that published runs into a folder and wrote speed views into Redis:
 * closes the store and the publisher, removes the folder, deletes the test's keys and its context.
 */
import { rmSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { SqliteBatchViewStore } from '../../adapters/sqlite/batch-view-store.js';
import type { RunPublisher } from './batch-runs.js';
import type { TestContext } from './context.js';
import { deletePrefix } from './speed-harness.js';

export async function closeServingFixture(f: {
  store: SqliteBatchViewStore;
  publisher: RunPublisher;
  dir: string;
  redis: Redis;
  ctx: TestContext;
}): Promise<void> {
  f.store.close();
  f.publisher.close();
  rmSync(f.dir, { recursive: true, force: true });
  await deletePrefix(f.redis, f.ctx.config.redis.keyPrefix);
  f.redis.disconnect();
  f.ctx.cleanup();
}
