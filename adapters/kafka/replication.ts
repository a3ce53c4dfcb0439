/**
 * How many copies of each partition a topic the service creates gets, and how many must hold a
 * write before acks=all answers (docs/design-decisions.md, "Kafka cluster"). Pure: the broker
 * count comes from the cluster's metadata.
 *
 * - 'auto' (the default): three copies when the cluster has three brokers or more, else one per
 *   broker: the single local broker gets 1, exactly as before, and a cluster gets 3 with no setting.
 * - a number: exactly that many copies; more than the cluster has brokers is refused at start
 *   rather than left to Kafka's less specific error.
 * min.insync.replicas is 2 once there are three copies (one broker may be lost without refusing
 * writes; a write acknowledged is on two brokers), and 1 below that (2 copies with 2 required
 * would stop every write whenever one broker restarts).
 */
import { LambdaError } from '../../shared/errors.js';

export type ReplicationSetting = 'auto' | number;

export interface TopicReplication {
  replicationFactor: number;
  minInsyncReplicas: number;
}

const AUTO_MAX_COPIES = 3;

export function topicReplication(setting: ReplicationSetting, brokerCount: number): TopicReplication {
  if (brokerCount < 1) throw new LambdaError('DEPENDENCY_DOWN', 'the Kafka cluster reports no brokers');
  if (setting !== 'auto' && setting > brokerCount) {
    throw new LambdaError(
      'CONFIG_INVALID',
      `LAMBDA_TOPIC_REPLICATION=${setting} but the Kafka cluster has ${brokerCount} broker(s): a topic cannot have more copies than brokers`,
    );
  }
  const replicationFactor = setting === 'auto' ? Math.min(AUTO_MAX_COPIES, brokerCount) : setting;
  return { replicationFactor, minInsyncReplicas: replicationFactor >= 3 ? 2 : 1 };
}
