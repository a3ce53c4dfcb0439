/**
 * A partition's state in Redis on assignment: what is stored, or, on the partition's very first
 * start, a new state whose offset comes from Kafka's offsetsForTimes and whose coveredSince says
 * from which event time its views are complete (coverage.ts).
 */
import type { Logger } from '../platform/logger.js';
import { LambdaError } from '../shared/errors.js';
import { assertStateTopic, type PartitionState, type SpeedStateStore, type TopicOffsets } from '../shared/speed/ports.js';
import { coverageStart, type CoverFrom } from './coverage.js';

/** Any failure talking to Kafka outside a batch: retriable, the callers back off and try again. */
export function kafkaDown(err: unknown, what: string): LambdaError {
  return new LambdaError('DEPENDENCY_DOWN', `Kafka ${what} failed: ${(err as Error).message ?? String(err)}`, { retriable: true, cause: err });
}

export interface PartitionInitDeps {
  store: SpeedStateStore;
  offsets: Pick<TopicOffsets, 'offsetsForTime'>;
  topic: string;
  prefix: string;
  coverFrom: CoverFrom;
  log: Logger;
}

export async function ensurePartitionState(d: PartitionInitDeps, partition: number): Promise<PartitionState> {
  const stored = await d.store.readPartition(partition);
  if (stored !== null) {
    // Registry first, even when the state is found wrong: an assignment that fails here may be the
    // last one before the cause is fixed (an operator corrects the state), and the fetch handler
    // then applies this partition without another assignment. Registered after the check, it was
    // applied but never listed, so readers left its views out (speed-consumer-restart, found in CI).
    await d.store.registerPartition(partition);
    assertStateTopic(stored, d.topic, d.prefix);
    return stored;
  }
  const { seekTimestamp, coveredSince } = coverageStart(d.coverFrom, Date.now());
  let offsets: Map<number, number>;
  try {
    offsets = await d.offsets.offsetsForTime(d.topic, seekTimestamp);
  } catch (err) {
    throw kafkaDown(err, 'offsetsForTimes');
  }
  const next = offsets.get(partition) ?? 0;
  const { created, previousLayout, ...state } = await d.store.initPartition(d.topic, partition, { next, coveredSince });
  if (created && previousLayout !== null) {
    // The views of the old key layout are not read by this version: they are rebuilt from Kafka
    // (old keys expire on their own), and coveredSince says from when the new ones are complete.
    d.log.warn(
      { partition, previousLayout, next: state.next, coveredSince: state.coveredSince },
      'speed partition stored under an older key layout: rebuilding its views from Kafka',
    );
  } else if (created) d.log.info({ partition, next: state.next, coveredSince: state.coveredSince, coverFrom: d.coverFrom }, 'speed partition initialised');
  return state;
}
