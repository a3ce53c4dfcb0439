/** How many copies a created topic gets (adapters/kafka/replication.ts), and the setting's validation. */
import { describe, expect, it } from 'vitest';
import { topicReplication } from '../../adapters/kafka/replication.js';
import { loadConfig } from '../../platform/config.js';

describe('topic replication', () => {
  it("'auto': one copy per broker up to three; min.insync.replicas 2 from three copies", () => {
    expect(topicReplication('auto', 1)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(topicReplication('auto', 2)).toEqual({ replicationFactor: 2, minInsyncReplicas: 1 });
    expect(topicReplication('auto', 3)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(topicReplication('auto', 7)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
  });

  it('a number is taken as it is, and refused when the cluster has fewer brokers', () => {
    expect(topicReplication(5, 7)).toEqual({ replicationFactor: 5, minInsyncReplicas: 2 });
    expect(topicReplication(1, 3)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(() => topicReplication(3, 1)).toThrow(/LAMBDA_TOPIC_REPLICATION=3 but the Kafka cluster has 1 broker/);
    expect(() => topicReplication('auto', 0)).toThrow(/no brokers/);
  });

  it('LAMBDA_TOPIC_REPLICATION: auto by default, a positive number, nothing else', () => {
    expect(loadConfig({}, '/tmp').kafka.replication).toBe('auto');
    expect(loadConfig({ LAMBDA_TOPIC_REPLICATION: '3' }, '/tmp').kafka.replication).toBe(3);
    expect(() => loadConfig({ LAMBDA_TOPIC_REPLICATION: '0' }, '/tmp')).toThrow(/LAMBDA_TOPIC_REPLICATION/);
    expect(() => loadConfig({ LAMBDA_TOPIC_REPLICATION: 'all' }, '/tmp')).toThrow(/LAMBDA_TOPIC_REPLICATION/);
  });
});
