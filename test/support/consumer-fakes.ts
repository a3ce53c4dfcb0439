/**
 * An in-memory stand-in for the kafkajs consumer the consumer group factory wraps
 * (adapters/kafka/consumer-group.ts ConsumerClient): it records what was asked of it, and the test
 * fires the group events kafkajs would (a join, a rebalance, a crash that kafkajs restarts or not).
 */
import type { ConsumerConfig, ConsumerRunConfig } from 'kafkajs';
import type { ConsumerClient } from '../../adapters/kafka/consumer-group.js';

const EVENTS = { GROUP_JOIN: 'consumer.group_join', REBALANCING: 'consumer.rebalancing', CRASH: 'consumer.crash' } as const;

export class FakeConsumer {
  readonly events = EVENTS;
  readonly listeners = new Map<string, (e: unknown) => void>();
  readonly seeks: { topic: string; partition: number; offset: string }[] = [];
  readonly pauses: unknown[] = [];
  readonly resumes: unknown[] = [];
  runConfig: ConsumerRunConfig | null = null;
  connected = false;
  disconnects = 0;
  /** makes the next connect() reject (a broker still down when the group restarts) */
  failConnect: Error | null = null;

  constructor(readonly config: ConsumerConfig) {}

  on(event: string, listener: (e: unknown) => void): () => void {
    this.listeners.set(event, listener);
    return () => this.listeners.delete(event);
  }

  async connect(): Promise<void> {
    if (this.failConnect) throw this.failConnect;
    this.connected = true;
  }

  async subscribe(): Promise<void> {}

  async run(config: ConsumerRunConfig): Promise<void> {
    this.runConfig = config;
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    this.disconnects++;
  }

  seek(tp: { topic: string; partition: number; offset: string }): void {
    this.seeks.push(tp);
  }

  pause(tps: unknown): void {
    this.pauses.push(tps);
  }

  resume(tps: unknown): void {
    this.resumes.push(tps);
  }

  join(memberAssignment: Record<string, number[]>): void {
    this.listeners.get(EVENTS.GROUP_JOIN)?.({ payload: { memberAssignment } });
  }

  rebalance(): void {
    this.listeners.get(EVENTS.REBALANCING)?.({ payload: {} });
  }

  /** What kafkajs does when a run fails: it disconnects, then reports the crash and whether it restarts the consumer itself. */
  crash(error: Error, restart: boolean): void {
    this.connected = false;
    this.listeners.get(EVENTS.CRASH)?.({ payload: { error, restart, groupId: this.config.groupId } });
  }

  asClient(): ConsumerClient {
    return this as unknown as ConsumerClient;
  }
}

export interface FakeConsumers {
  make: (config: ConsumerConfig) => ConsumerClient;
  /** every consumer made, oldest first */
  made: FakeConsumer[];
  latest: () => FakeConsumer;
  /** how many of the next consumers fail to connect */
  failConnects: number;
}

/** A maker of fake consumers that keeps every consumer it made. */
export function fakeConsumers(): FakeConsumers {
  const made: FakeConsumer[] = [];
  const fakes: FakeConsumers = {
    made,
    failConnects: 0,
    make: (config) => {
      const c = new FakeConsumer(config);
      if (fakes.failConnects > 0) {
        fakes.failConnects--;
        c.failConnect = new Error('broker down');
      }
      made.push(c);
      return c.asClient();
    },
    latest: () => {
      const c = made.at(-1);
      if (!c) throw new Error('no consumer made yet');
      return c;
    },
  };
  return fakes;
}
