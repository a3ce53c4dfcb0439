/**
 * The hash slot the speed layer computes to know which master holds a key (adapters/redis/
 * replication.ts) must be Redis Cluster's own: CRC16-XMODEM of the key or of its first non-empty
 * {tag}, mod 16384. The values are those of CLUSTER KEYSLOT and of the cluster specification.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../../adapters/redis/replication.js';

describe('keySlot', () => {
  it('is CLUSTER KEYSLOT', () => {
    expect(keySlot('123456789')).toBe(0x31c3); // the specification's check value
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('bar')).toBe(5061);
    expect(keySlot('hello')).toBe(866);
  });

  it("hashes the first non-empty {tag} only, by the specification's examples", () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('foo{bar}{zap}')).toBe(keySlot('bar'));
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}'));
    expect(keySlot('foo{}{bar}')).not.toBe(keySlot('bar'));
    expect(keySlot('{la:p0}:state')).toBe(keySlot('la:p0'));
  });
});
