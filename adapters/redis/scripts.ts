/**
 * Every Lua script the service runs, in this one module, each opening with its KEYS / ARGV /
 * returns contract. They are registered with ioredis defineCommand, which sends EVALSHA and falls
 * back to EVAL when the server does not know the script yet (after a restart or SCRIPT FLUSH).
 * Arguments are handed to ioredis as one array (it flattens arrays): spreading a large batch into
 * a call's arguments would overflow the JavaScript stack (RangeError past ~120k arguments).
 *
 * Offsets and scaled integers travel as decimal strings: Lua numbers are doubles and Redis would
 * format a large one as "1e+15", which HINCRBY rejects.
 *
 * Checks are structural only (counts and key indexes fit): every value comes from the encoder in
 * apply-ops.ts, which writes only integers it computed. A script that fails half-way does not roll
 * back in Redis, so the offset is written last: a failure leaves the offset unmoved.
 */
import type { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

/**
 * One fetched (sub-)batch of one partition, applied all-or-nothing with the partition's offset.
 * A compare-and-set on the stored offset makes replays and zombie consumers change nothing.
 */
export const APPLY_BATCH_LUA = `
-- KEYS[1]        partition state hash ({P:pN}:state); field "next" = next offset to apply
-- KEYS[2..1+c]   late-class sets ({P:pN}:l:...), one per bucket
-- KEYS[2+c+2s-2], KEYS[2+c+2s-1]  section s: one bucket hash ({P:pN}:v:...) and its bucket index
-- ARGV[1]  expected next offset: the stored "next" the batch was planned against
-- ARGV[2]  new next offset (last offset of the batch + 1); must be > ARGV[1]
-- ARGV[3]  now, epoch ms (stored as updatedAt; index expiry)
-- ARGV[4]  layout version the caller writes; must equal the state's "layout"
-- ARGV[5]  a = number of (field, n) pairs HINCRBY'd into the state hash (running totals)
-- ARGV[6]  b = number of (field, value) pairs HSET into the state hash (coveredSince, lost ranges)
-- ARGV[7]  c = number of late-class sets
-- then a + b pairs; then per late-class set: expireAt, n, then n (score, member) pairs (ZADD; the
--          set gets its absolute expiry when created); then per section s:
--          expireAt, bucketStart, trimBelow, nIncr, nMin, nMax, then nIncr + nMin + nMax
--          (field, value) pairs: HINCRBY; keep the smaller; keep the larger
--          When the bucket hash is new: PEXPIREAT it, ZADD the bucket to the index, drop index
--          entries at or below trimBelow (expired buckets), extend the index's expiry to expireAt.
-- returns  {1, new next}  applied
--          {0, stored}    stored next != expected: nothing written (replay, zombie, rollback)
--          {-1, ""}       the partition has no state (initialise it first): nothing written
--          {-2, layout}   the state was written by another layout version: nothing written
local stored = redis.call('HGET', KEYS[1], 'next')
if not stored then return {-1, ''} end
if stored ~= ARGV[1] then return {0, stored} end
local layout = redis.call('HGET', KEYS[1], 'layout')
if layout ~= ARGV[4] then return {-2, layout or ''} end
if not string.match(ARGV[2], '^%d+$') or tonumber(ARGV[2]) <= tonumber(ARGV[1]) then
  return redis.error_reply('new next offset ' .. ARGV[2] .. ' is not above ' .. ARGV[1])
end
local a, b, c = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
-- structural pass: late-set and section headers only
local i = 8 + 2 * (a + b)
for _ = 1, c do
  local n = tonumber(ARGV[i + 1]) or -1
  if n < 0 or i + 1 + 2 * n > #ARGV then return redis.error_reply('bad late-class set at ARGV[' .. i .. ']') end
  i = i + 2 + 2 * n
end
local first, s = i, 0
while i <= #ARGV do
  s = s + 1
  local n = (tonumber(ARGV[i + 3]) or -1) + (tonumber(ARGV[i + 4]) or -1) + (tonumber(ARGV[i + 5]) or -1)
  if n < 0 or i + 5 + 2 * n > #ARGV then return redis.error_reply('bad section at ARGV[' .. i .. ']') end
  i = i + 6 + 2 * n
end
if #KEYS ~= 1 + c + 2 * s then return redis.error_reply('expected ' .. (1 + c + 2 * s) .. ' keys, got ' .. #KEYS) end
i = 8 + 2 * (a + b)
for k = 1, c do
  local key, at, n = KEYS[1 + k], ARGV[i], tonumber(ARGV[i + 1])
  local new = redis.call('EXISTS', key) == 0
  for j = i + 2, i + 2 * n, 2 do redis.call('ZADD', key, ARGV[j], ARGV[j + 1]) end
  if new then redis.call('PEXPIREAT', key, at) end
  i = i + 2 + 2 * n
end
local now = tonumber(ARGV[3])
i, s = first, 0
while i <= #ARGV do
  s = s + 1
  local h, ix = KEYS[c + 2 * s], KEYS[c + 2 * s + 1]
  local at, nI, nL, nG = ARGV[i], tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5])
  local new = redis.call('EXISTS', h) == 0
  local j = i + 6
  for _ = 1, nI do
    redis.call('HINCRBY', h, ARGV[j], ARGV[j + 1])
    j = j + 2
  end
  for k = 1, nL + nG do
    local cur = redis.call('HGET', h, ARGV[j])
    local v = tonumber(ARGV[j + 1])
    if not cur or (k <= nL and v < tonumber(cur)) or (k > nL and v > tonumber(cur)) then
      redis.call('HSET', h, ARGV[j], ARGV[j + 1])
    end
    j = j + 2
  end
  if new then
    redis.call('PEXPIREAT', h, at)
    redis.call('ZADD', ix, ARGV[i + 1], ARGV[i + 1])
    redis.call('ZREMRANGEBYSCORE', ix, '-inf', ARGV[i + 2])
    local pttl = redis.call('PTTL', ix)
    if pttl == -1 or (pttl >= 0 and now + pttl < tonumber(at)) then redis.call('PEXPIREAT', ix, at) end
  end
  i = j
end
for k = 0, a - 1 do redis.call('HINCRBY', KEYS[1], ARGV[8 + 2 * k], ARGV[9 + 2 * k]) end
for k = a, a + b - 1 do redis.call('HSET', KEYS[1], ARGV[8 + 2 * k], ARGV[9 + 2 * k]) end
redis.call('HSET', KEYS[1], 'next', ARGV[2], 'updatedAt', ARGV[3])
return {1, ARGV[2]}
`;

/**
 * Dedupe claims for one event hour, shared by every partition: the first copy of an id to claim
 * it owns it. A replay of that copy (same partition and offset) finds its own claim and is not a
 * duplicate, so the answer for a record never changes, whichever partition is applied first and
 * however often a batch is retried.
 */
export const CLAIM_IDS_LUA = `
-- KEYS[1]  claim hash of one event hour ({P:d:<hour>}): field = event id, value = "<partition>:<offset>"
-- ARGV[1]  expiry of the hash (epoch ms), set when it is created
-- ARGV[2]  the claiming partition
-- ARGV[3..] (offset, id) pairs in offset order
-- returns  a string with one character per pair: "0" the record owns its id (first copy, or a
--          replay of it), "1" another copy claimed the id first (a duplicate)
local created = redis.call('EXISTS', KEYS[1]) == 0
local out = {}
local p = ARGV[2] .. ':'
for i = 3, #ARGV - 1, 2 do
  local owner = p .. ARGV[i]
  if redis.call('HSETNX', KEYS[1], ARGV[i + 1], owner) == 1 or redis.call('HGET', KEYS[1], ARGV[i + 1]) == owner then
    out[#out + 1] = '0'
  else
    out[#out + 1] = '1'
  end
end
if created then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end
return table.concat(out)
`;

/** PFADD of distinct members into HLL keys of one slot; a new key gets its absolute expiry. */
export const HLL_ADD_LUA = `
-- KEYS[1..n] HyperLogLog keys in one slot ({P:h:<view>:<g>:<shard>}:...)
-- ARGV       per key, in order: expireAt (epoch ms), c, then c members
-- returns    the number of keys written
local i = 1
for k = 1, #KEYS do
  local at, c = ARGV[i], tonumber(ARGV[i + 1])
  if not c or i + 1 + c > #ARGV then return redis.error_reply('bad member count at ARGV[' .. (i + 1) .. ']') end
  local new = redis.call('EXISTS', KEYS[k]) == 0
  local s, last = i + 2, i + 1 + c
  while s <= last do
    local e = math.min(s + 499, last)
    redis.call('PFADD', KEYS[k], unpack(ARGV, s, e))
    s = e + 1
  end
  if new then redis.call('PEXPIREAT', KEYS[k], at) end
  i = last + 1
end
return #KEYS
`;

/** The buckets of a range of one partition's view, with every field: one call per partition. */
export const READ_BUCKETS_LUA = `
-- KEYS[1]  bucket index of one partition ({P:pN}:ib:<view>:<g>)
-- ARGV[1]  first bucket start (inclusive); ARGV[2] end (exclusive)
-- ARGV[3]  bucket hash key prefix ({P:pN}:v:<view>:<g>:); the bucket start completes it. Those
--          keys share KEYS[1]'s hash tag, so they are in its slot.
-- returns  {bucketStart, {field, value, ...}, ...} for the buckets whose hash still exists
local out = {}
for _, b in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '(' .. ARGV[2])) do
  local f = redis.call('HGETALL', ARGV[3] .. b)
  if #f > 0 then
    out[#out + 1] = b
    out[#out + 1] = f
  end
end
return out
`;

/** The fields of one group in the buckets of a range of one partition's view (a filter on every dimension). */
export const READ_GROUP_LUA = `
-- KEYS[1]  bucket index of one partition ({P:pN}:ib:<view>:<g>)
-- ARGV[1]  first bucket start (inclusive); ARGV[2] end (exclusive)
-- ARGV[3]  bucket hash key prefix ({P:pN}:v:<view>:<g>:); the bucket start completes it (same slot)
-- ARGV[4..] the group's fields (<dims>:<measure or counter>)
-- returns  {bucketStart, {field, value, ...}, ...} for the buckets that hold any of them
local out = {}
local fields = {unpack(ARGV, 4)}
for _, b in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '(' .. ARGV[2])) do
  local v = redis.call('HMGET', ARGV[3] .. b, unpack(fields))
  local f = {}
  for i = 1, #fields do
    if v[i] then
      f[#f + 1] = fields[i]
      f[#f + 1] = v[i]
    end
  end
  if #f > 0 then
    out[#out + 1] = b
    out[#out + 1] = f
  end
end
return out
`;

/** Late-class events past a run's snapshot in the buckets of a range of one partition's view. */
export const READ_LATE_CLASS_LUA = `
-- KEYS[1]  bucket index of one partition ({P:pN}:ib:<view>:<g>)
-- ARGV[1]  first bucket start (inclusive); ARGV[2] end (exclusive)
-- ARGV[3]  late-class key prefix ({P:pN}:l:<view>:<g>:); the bucket start completes it (same slot)
-- ARGV[4]  offset: only members with a greater score (offsets the run did not read)
-- returns  {bucketStart, {member, ...}, ...} for the buckets that have any
local out = {}
for _, b in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '(' .. ARGV[2])) do
  local m = redis.call('ZRANGEBYSCORE', ARGV[3] .. b, '(' .. ARGV[4], '+inf')
  if #m > 0 then
    out[#out + 1] = b
    out[#out + 1] = m
  end
end
return out
`;

/** Estimates of several HLL unions in one slot (a union of one key is that key's estimate). */
export const PFCOUNT_MANY_LUA = `
-- KEYS     HyperLogLog keys in one slot, group after group
-- ARGV[g]  number of keys of group g
-- returns  {PFCOUNT of group 1's keys, ...} (a missing key counts as empty)
local out, k = {}, 1
for g = 1, #ARGV do
  local n = tonumber(ARGV[g])
  out[g] = redis.call('PFCOUNT', unpack(KEYS, k, k + n - 1))
  k = k + n
end
return out
`;

/**
 * A change of the speed layer's runtime control (shared/speed/control.ts), with a new version, in
 * one step: two admins changing different switches at once both get their change and a distinct
 * version.
 */
export const SET_CONTROL_LUA = `
-- KEYS[1]  control hash (P:speed:control)
-- ARGV[1]  now, epoch ms (stored as updatedAt)
-- ARGV[2..] (field, value) pairs: HSET, or HDEL when the value is empty
-- returns  the hash after the change, as HGETALL's flat {field, value, ...}
for i = 2, #ARGV - 1, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[1])
return redis.call('HGETALL', KEYS[1])
`;

/** First start of a partition (or a layout change): where consumption starts, from when views are complete. */
export const INIT_PARTITION_LUA = `
-- KEYS[1]  partition state hash ({P:pN}:state)
-- ARGV[1]  topic the partition belongs to
-- ARGV[2]  first offset to consume
-- ARGV[3]  coveredSince: event time (epoch ms) from which this partition's views are complete
-- ARGV[4]  now, epoch ms
-- ARGV[5]  layout version
-- returns  {next, coveredSince, topic, created, previous layout} as stored: created from ARGV if
--          absent or of another layout (created = 1; the old state is replaced, its views are
--          rebuilt from Kafka), else unchanged (created = 0), so two consumers racing agree
local created, previous = 0, ''
local layout = redis.call('HGET', KEYS[1], 'layout')
if layout ~= ARGV[5] then
  if redis.call('EXISTS', KEYS[1]) == 1 then previous = layout or '1' end
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'next', ARGV[2], 'coveredSince', ARGV[3], 'topic', ARGV[1],
    'createdAt', ARGV[4], 'updatedAt', ARGV[4], 'layout', ARGV[5])
  created = 1
end
local s = redis.call('HMGET', KEYS[1], 'next', 'coveredSince', 'topic')
return {s[1], s[2], s[3], created, previous}
`;

/** W only ever rises: a slow publisher of an older run cannot take it back. */
export const RAISE_WATERMARK_LUA = `
-- KEYS[1]  the batch watermark key (P:batch:watermark)
-- ARGV[1]  W of a published run (epoch ms, decimal)
-- returns  the W stored afterwards
local cur = redis.call('GET', KEYS[1])
if not cur or tonumber(ARGV[1]) > tonumber(cur) then
  redis.call('SET', KEYS[1], ARGV[1])
  return ARGV[1]
end
return cur
`;

/** Union of HyperLogLogs that live in different slots, via scratch keys. */
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

type ScriptArg = string | Buffer | number | readonly (string | Buffer)[];
type ScriptFn = (numKeys: number, ...keysAndArgs: ScriptArg[]) => Promise<unknown>;

const SCRIPTS = {
  lambdaSpeedApply: APPLY_BATCH_LUA,
  lambdaClaimIds: CLAIM_IDS_LUA,
  lambdaHllAdd: HLL_ADD_LUA,
  lambdaReadBuckets: READ_BUCKETS_LUA,
  lambdaReadLateClass: READ_LATE_CLASS_LUA,
  lambdaReadGroup: READ_GROUP_LUA,
  lambdaPfcountMany: PFCOUNT_MANY_LUA,
  lambdaSpeedInit: INIT_PARTITION_LUA,
  lambdaRaiseWatermark: RAISE_WATERMARK_LUA,
  lambdaHllUnion: HLL_UNION_LUA,
  lambdaSetControl: SET_CONTROL_LUA,
} as const;
const defined = new WeakSet<object>();

export type ApplyReply = [status: number, detail: string];
export type InitReply = [next: string | null, coveredSince: string | null, topic: string | null, created: number, previousLayout: string];

/** The scripts as typed functions on one client (defined once per client). */
export interface SpeedScripts {
  applyBatch(keys: readonly string[], args: readonly string[]): Promise<ApplyReply>;
  claimIds(key: string, args: readonly string[]): Promise<string>;
  hllAdd(keys: readonly string[], args: readonly string[]): Promise<number>;
  readBuckets(indexKey: string, from: number, to: number, hashPrefix: string): Promise<(string | string[])[]>;
  readLateClass(indexKey: string, from: number, to: number, setPrefix: string, afterOffset: number): Promise<(string | string[])[]>;
  readGroup(indexKey: string, from: number, to: number, hashPrefix: string, fields: readonly string[]): Promise<(string | string[])[]>;
  pfcountMany(keys: readonly string[], groupSizes: readonly number[]): Promise<number[]>;
  initPartition(stateKey: string, args: [topic: string, next: string, coveredSince: string, now: string, layout: string]): Promise<InitReply>;
  raiseWatermark(key: string, watermark: number): Promise<string>;
  hllUnion(scratch: readonly [string, string], sketches: readonly Buffer[]): Promise<[number, Buffer]>;
  /** the control hash after setting `fields` (value '' deletes one), flat as HGETALL's reply */
  setControl(key: string, now: number, fields: readonly string[]): Promise<string[]>;
}

export function loadScripts(redis: RedisClient): SpeedScripts {
  if (!defined.has(redis)) {
    for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { lua });
    defined.add(redis);
  }
  // defineCommand adds methods at runtime (and a `<name>Buffer` variant returning Buffers).
  const fn = (name: keyof typeof SCRIPTS | 'lambdaHllUnionBuffer'): ScriptFn => {
    const f = (redis as unknown as Record<string, ScriptFn>)[name];
    if (typeof f !== 'function') throw new Error(`script ${name} is not defined on this client`);
    return f.bind(redis);
  };
  return {
    async applyBatch(keys, args) {
      const [status, detail] = (await fn('lambdaSpeedApply')(keys.length, keys, args)) as [number, string];
      return [Number(status), String(detail)];
    },
    async claimIds(key, args) {
      return String(await fn('lambdaClaimIds')(1, key, args));
    },
    async hllAdd(keys, args) {
      return Number(await fn('lambdaHllAdd')(keys.length, keys, args));
    },
    async readBuckets(indexKey, from, to, hashPrefix) {
      return (await fn('lambdaReadBuckets')(1, indexKey, String(from), String(to), hashPrefix)) as (string | string[])[];
    },
    async readLateClass(indexKey, from, to, setPrefix, afterOffset) {
      return (await fn('lambdaReadLateClass')(1, indexKey, String(from), String(to), setPrefix, String(afterOffset))) as (string | string[])[];
    },
    async readGroup(indexKey, from, to, hashPrefix, fields) {
      return (await fn('lambdaReadGroup')(1, indexKey, String(from), String(to), hashPrefix, fields)) as (string | string[])[];
    },
    async pfcountMany(keys, groupSizes) {
      return ((await fn('lambdaPfcountMany')(keys.length, keys, groupSizes.map(String))) as number[]).map(Number);
    },
    async initPartition(stateKey, args) {
      return (await fn('lambdaSpeedInit')(1, stateKey, ...args)) as InitReply;
    },
    async raiseWatermark(key, watermark) {
      return String(await fn('lambdaRaiseWatermark')(1, key, String(watermark)));
    },
    async hllUnion(scratch, sketches) {
      return (await fn('lambdaHllUnionBuffer')(2, ...scratch, sketches)) as [number, Buffer];
    },
    async setControl(key, now, fields) {
      return ((await fn('lambdaSetControl')(1, key, String(now), fields)) as unknown[]).map(String);
    },
  };
}
