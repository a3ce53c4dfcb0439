/**
 * Sketches built here against Redis itself (issue 16): for random member sets, the registers of a
 * sketch built by shared/hll equal those PFADD builds; the sketch written into Redis as a string
 * counts (PFCOUNT) exactly as the PFADD-built key; our estimator gives the same number; and the
 * union (PFMERGE) of a batch-built sketch with a speed-layer HLL is the sketch of the union.
 * Also for the bytes a batch run file stores (shared/hll/sketch.ts, the engines' path) and for the
 * serving layer's union of many batch sketches and speed HLLs (SketchUnion).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { HyperLogLog } from '../../shared/hll/hll.js';
import { fromRedis, toRedis } from '../../shared/hll/hll-format.js';
import { SketchUnion, sketchOfMembers } from '../../shared/hll/sketch.js';
import { testContext, type TestContext } from '../support/context.js';
import { deletePrefix } from '../support/speed-harness.js';
import { rand, type Rand } from '../unit/_prng.js';

const ALPHABET = ['a', 'Z', '7', '/', ' ', 'é', 'ß', '中', '😀', '\u0000', ':'];
function member(r: Rand): string {
  if (r.chance(0.3)) return String(r.int(0, 1e9));
  return Array.from({ length: r.int(0, 24) }, () => r.pick(ALPHABET)).join('');
}

describe('HyperLogLog: batch-built sketches and Redis agree', () => {
  let ctx: TestContext;
  let redis: Redis;
  let prefix: string;
  beforeAll(() => {
    ctx = testContext();
    redis = new Redis(ctx.config.redis.url);
    prefix = `${ctx.config.redis.keyPrefix}:hll`;
  });
  afterAll(async () => {
    await deletePrefix(redis, ctx.config.redis.keyPrefix);
    redis.disconnect();
    ctx.cleanup();
  });

  async function pfadd(key: string, members: readonly string[]): Promise<void> {
    for (let i = 0; i < members.length; i += 1000) await redis.pfadd(key, ...members.slice(i, i + 1000));
    if (members.length === 0) await redis.pfadd(key);
  }

  it('same registers, same PFCOUNT, same estimate, for sets from empty to 60,000 members', async () => {
    const r = rand(2026);
    for (const [n, size] of [0, 1, 2, 10, 100, 1_000, 3_000, 20_000, 60_000].entries()) {
      const members = Array.from({ length: size }, () => member(r));
      const local = new HyperLogLog();
      for (const m of members) local.add(m);
      const added = `${prefix}:added:${n}`;
      const loaded = `${prefix}:loaded:${n}`;
      await pfadd(added, members);
      const raw = await redis.getBuffer(added);
      expect(fromRedis(raw!).registers, `registers of ${size} members`).toEqual(local.registers);
      await redis.set(loaded, Buffer.from(toRedis(local)));
      const count = await redis.pfcount(added);
      expect(await redis.pfcount(loaded)).toBe(count);
      expect(local.estimate(), `estimate of ${size} members`).toBe(count);
    }
  });

  it('PFMERGE of a batch-built sketch and a speed-layer HLL is the sketch of the union', async () => {
    const r = rand(16);
    for (let n = 0; n < 8; n++) {
      const shared = Array.from({ length: r.int(0, 2000) }, () => member(r));
      const batch = [...shared, ...Array.from({ length: r.int(0, 5000) }, () => member(r))];
      const speed = [...shared, ...Array.from({ length: r.int(0, 5000) }, () => member(r))];
      const batchSketch = new HyperLogLog();
      for (const m of batch) batchSketch.add(m);
      const b = `${prefix}:b:${n}`;
      const s = `${prefix}:s:${n}`;
      const u = `${prefix}:u:${n}`;
      const all = `${prefix}:all:${n}`;
      await redis.set(b, Buffer.from(toRedis(batchSketch)));
      await pfadd(s, speed);
      await redis.pfmerge(u, b, s);
      await pfadd(all, [...batch, ...speed]);
      const union = new HyperLogLog(Uint8Array.from(batchSketch.registers));
      for (const m of speed) union.add(m);
      expect(fromRedis((await redis.getBuffer(u))!).registers).toEqual(union.registers);
      expect(await redis.pfcount(u)).toBe(await redis.pfcount(all));
      // And merged here instead of in Redis: the same registers.
      const speedSketch = fromRedis((await redis.getBuffer(s))!);
      expect(new HyperLogLog(Uint8Array.from(batchSketch.registers)).merge(speedSketch).registers).toEqual(union.registers);
    }
  });

  it("run-file sketches: SET into Redis they count as PFADD; the union of several buckets' sketches and speed HLLs is PFMERGE's, estimated as PFCOUNT", async () => {
    const r = rand(1616);
    for (let n = 0; n < 10; n++) {
      // A week of one URL: batch buckets (run-file bytes) and speed buckets (PFADD keys), visitors returning.
      const pool = Array.from({ length: r.int(1, 8000) }, () => member(r));
      const bucket = () => Array.from({ length: r.pick([0, 1, 5, 40, 900, 4000]) }, () => r.pick(pool));
      const batchBuckets = Array.from({ length: r.int(1, 6) }, bucket);
      const speedBuckets = Array.from({ length: r.int(0, 3) }, bucket);
      const keys: string[] = [];
      const union = new SketchUnion();
      for (const [i, members] of batchBuckets.entries()) {
        const bytes = sketchOfMembers(members);
        const loaded = `${prefix}:run:${n}:${i}`;
        const added = `${prefix}:pfadd:${n}:${i}`;
        await redis.set(loaded, Buffer.from(bytes));
        await pfadd(added, members);
        expect(await redis.pfcount(loaded), `batch bucket of ${members.length} members`).toBe(await redis.pfcount(added));
        keys.push(loaded);
        union.addRedis(bytes);
      }
      for (const [i, members] of speedBuckets.entries()) {
        const key = `${prefix}:speed:${n}:${i}`;
        await pfadd(key, members);
        keys.push(key);
        union.addRedis((await redis.getBuffer(key))!);
      }
      const merged = `${prefix}:merged:${n}`;
      const truth = `${prefix}:truth:${n}`;
      await redis.pfmerge(merged, ...keys);
      await pfadd(truth, [...batchBuckets, ...speedBuckets].flat());
      expect(union.toHyperLogLog().registers).toEqual(fromRedis((await redis.getBuffer(merged))!).registers);
      expect(union.toHyperLogLog().registers).toEqual(fromRedis((await redis.getBuffer(truth))!).registers);
      expect(union.estimate()).toBe(await redis.pfcount(merged));
    }
  });
});
