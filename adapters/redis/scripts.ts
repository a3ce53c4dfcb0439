/**
 * Every Lua script the service runs, in this one module, each opening with its KEYS / ARGV /
 * returns contract. They are registered with ioredis defineCommand, which sends EVALSHA and falls
 * back to EVAL when the server does not know the script yet (after a restart or SCRIPT FLUSH).
 *
 * Offsets and scaled integers travel as decimal strings: Lua numbers are doubles and Redis would
 * format a large one as "1e+15", which HINCRBY rejects.
 */
import type { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

/**
 * One fetched (sub-)batch of one partition, applied all-or-nothing with the partition's offset.
 * A compare-and-set on the stored offset makes replays and zombie consumers change nothing: the
 * caller planned against `expected`; if the stored offset moved since (another consumer applied,
 * or this is a replay), nothing is written.
 */
export const APPLY_BATCH_LUA = `
-- KEYS[1]   partition state hash ({P:pN}:state); field "next" = next offset to apply
-- KEYS[2..] every other key the ops touch (same hash tag, so one slot), referenced by index
-- ARGV[1]   expected next offset: the stored "next" the batch was planned against
-- ARGV[2]   new next offset (last offset of the batch + 1); must be > ARGV[1]
-- ARGV[3]   TTL in seconds of the dedupe markers (op S)
-- ARGV[4]   now, epoch ms (stored as updatedAt; used by op X)
-- ARGV[5..] ops, each an opcode, a key index k (into KEYS) and fixed arguments:
--             S k          SET KEYS[k] 1 NX EX <ARGV[3]>   (remember an event id)
--             I k f n      HINCRBY KEYS[k] f n             (count, scaled sum, counters)
--             L k f v      HSET KEYS[k] f v if f is absent or v < current  (min)
--             G k f v      HSET KEYS[k] f v if f is absent or v > current  (max)
--             P k c m1..mc PFADD KEYS[k] m1..mc            (distinct)
--             E k t        PEXPIREAT KEYS[k] t             (bucket keys: absolute expiry)
--             X k t        PEXPIREAT KEYS[k] t unless it already expires later (indexes)
--             Z k s        ZADD KEYS[k] s s                (bucket index)
--             A k m        SADD KEYS[k] m                  (dims index)
--             T k s        ZREMRANGEBYSCORE KEYS[k] -inf s (drop expired buckets from the index)
-- returns   {1, new next}   applied
--           {0, stored}     stored next != expected: nothing written (replay, zombie, rollback)
--           {-1, ""}        the partition has no state (initialise it first): nothing written
-- The whole op list is checked before the first write, so a malformed call writes nothing.
local stored = redis.call('HGET', KEYS[1], 'next')
if not stored then return {-1, ''} end
if stored ~= ARGV[1] then return {0, stored} end
if not string.match(ARGV[2], '^%d+$') or tonumber(ARGV[2]) <= tonumber(ARGV[1]) then
  return redis.error_reply('new next offset ' .. ARGV[2] .. ' is not above ' .. ARGV[1])
end
local arity = {S = 0, I = 2, L = 2, G = 2, E = 1, X = 1, Z = 1, A = 1, T = 1}
local numeric = {I = 2, L = 2, G = 2, E = 1, X = 1, Z = 1, T = 1}
local i = 5
while i <= #ARGV do
  local op, k = ARGV[i], tonumber(ARGV[i + 1])
  if not k or k < 1 or k > #KEYS or k ~= math.floor(k) then
    return redis.error_reply('bad key index at ARGV[' .. i .. ']')
  end
  if op == 'P' then
    local c = tonumber(ARGV[i + 2])
    if not c or c < 1 or i + 2 + c > #ARGV then return redis.error_reply('bad PFADD count at ARGV[' .. i .. ']') end
    i = i + 3 + c
  else
    local n = arity[op]
    if not n then return redis.error_reply('unknown op at ARGV[' .. i .. ']') end
    if i + 1 + n > #ARGV then return redis.error_reply('truncated op at ARGV[' .. i .. ']') end
    local num = numeric[op]
    if num and not string.match(ARGV[i + 1 + num], '^%-?%d+$') then
      return redis.error_reply('not an integer at ARGV[' .. (i + 1 + num) .. ']')
    end
    i = i + 2 + n
  end
end
local now = tonumber(ARGV[4])
i = 5
while i <= #ARGV do
  local op, key = ARGV[i], KEYS[tonumber(ARGV[i + 1])]
  if op == 'S' then
    redis.call('SET', key, '1', 'NX', 'EX', ARGV[3])
    i = i + 2
  elseif op == 'I' then
    redis.call('HINCRBY', key, ARGV[i + 2], ARGV[i + 3])
    i = i + 4
  elseif op == 'L' or op == 'G' then
    local cur = redis.call('HGET', key, ARGV[i + 2])
    local v = tonumber(ARGV[i + 3])
    if not cur or (op == 'L' and v < tonumber(cur)) or (op == 'G' and v > tonumber(cur)) then
      redis.call('HSET', key, ARGV[i + 2], ARGV[i + 3])
    end
    i = i + 4
  elseif op == 'P' then
    local last = i + 2 + tonumber(ARGV[i + 2])
    local s = i + 3
    while s <= last do
      local e = math.min(s + 499, last)
      redis.call('PFADD', key, unpack(ARGV, s, e))
      s = e + 1
    end
    i = last + 1
  elseif op == 'E' then
    redis.call('PEXPIREAT', key, ARGV[i + 2])
    i = i + 3
  elseif op == 'X' then
    local pttl = redis.call('PTTL', key)
    if pttl == -1 or (pttl >= 0 and now + pttl < tonumber(ARGV[i + 2])) then
      redis.call('PEXPIREAT', key, ARGV[i + 2])
    end
    i = i + 3
  elseif op == 'Z' then
    redis.call('ZADD', key, ARGV[i + 2], ARGV[i + 2])
    i = i + 3
  elseif op == 'A' then
    redis.call('SADD', key, ARGV[i + 2])
    i = i + 3
  else -- 'T'
    redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[i + 2])
    i = i + 3
  end
end
redis.call('HSET', KEYS[1], 'next', ARGV[2], 'updatedAt', ARGV[4])
return {1, ARGV[2]}
`;

/** First start of a partition: record where consumption starts and from when views are complete. */
export const INIT_PARTITION_LUA = `
-- KEYS[1]  partition state hash ({P:pN}:state)
-- ARGV[1]  topic the partition belongs to
-- ARGV[2]  first offset to consume
-- ARGV[3]  coveredSince: event time (epoch ms) from which this partition's views are complete
-- ARGV[4]  now, epoch ms
-- returns  {next, coveredSince, topic, created} as stored: created from ARGV if absent (created =
--          1), else unchanged (created = 0), so two consumers racing to initialise agree
local created = 0
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'next', ARGV[2], 'coveredSince', ARGV[3], 'topic', ARGV[1],
    'createdAt', ARGV[4], 'updatedAt', ARGV[4])
  created = 1
end
local s = redis.call('HMGET', KEYS[1], 'next', 'coveredSince', 'topic')
return {s[1], s[2], s[3], created}
`;

/** Union of HyperLogLog shards that live in different slots (partitions), via scratch keys. */
export const HLL_UNION_LUA = `
-- KEYS[1], KEYS[2]  scratch keys in one slot ({P:tmp}:hll:<nonce>:a|b); deleted before returning
-- ARGV[1..]         raw HLL strings (GET of a PFADD key), at least one
-- returns           {estimated cardinality of the union, raw HLL string of the union}
redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000)
for i = 2, #ARGV do
  redis.call('SET', KEYS[2], ARGV[i], 'PX', 60000)
  redis.call('PFMERGE', KEYS[1], KEYS[1], KEYS[2])
end
local count = redis.call('PFCOUNT', KEYS[1])
local raw = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
return {count, raw}
`;

type ScriptArg = string | Buffer | number;
type ScriptFn = (numKeys: number, ...keysAndArgs: ScriptArg[]) => Promise<unknown>;

const NAMES = { apply: 'lambdaSpeedApply', init: 'lambdaSpeedInit', union: 'lambdaHllUnion' } as const;
const defined = new WeakSet<object>();

/** The scripts as typed functions on one client (defined once per client). */
export interface SpeedScripts {
  applyBatch(keys: readonly string[], args: readonly string[]): Promise<[number, string]>;
  initPartition(stateKey: string, args: [topic: string, next: string, coveredSince: string, now: string]): Promise<[string | null, string | null, string | null, number]>;
  hllUnion(scratch: readonly [string, string], sketches: readonly Buffer[]): Promise<[number, Buffer]>;
}

export function loadScripts(redis: RedisClient): SpeedScripts {
  if (!defined.has(redis)) {
    redis.defineCommand(NAMES.apply, { lua: APPLY_BATCH_LUA });
    redis.defineCommand(NAMES.init, { lua: INIT_PARTITION_LUA });
    redis.defineCommand(NAMES.union, { lua: HLL_UNION_LUA });
    defined.add(redis);
  }
  // defineCommand adds methods at runtime (and a `<name>Buffer` variant returning Buffers).
  const fn = (name: string): ScriptFn => {
    const f = (redis as unknown as Record<string, ScriptFn>)[name];
    if (typeof f !== 'function') throw new Error(`script ${name} is not defined on this client`);
    return f.bind(redis);
  };
  return {
    async applyBatch(keys, args) {
      const [status, next] = (await fn(NAMES.apply)(keys.length, ...keys, ...args)) as [number, string];
      return [Number(status), String(next)];
    },
    async initPartition(stateKey, args) {
      return (await fn(NAMES.init)(1, stateKey, ...args)) as [string | null, string | null, string | null, number];
    },
    async hllUnion(scratch, sketches) {
      return (await fn(`${NAMES.union}Buffer`)(2, ...scratch, ...sketches)) as [number, Buffer];
    },
  };
}
