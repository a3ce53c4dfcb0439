/**
 * The speed layer's runtime control (shared/speed/control.ts) in Redis: one small hash, read by
 * every speed instance (with its partition state, once per fetch batch, and on its status tick)
 * and written by the serving layer's admin routes through SET_CONTROL_LUA (a new version per
 * change). The hash is in one slot, so it works the same on a Redis Cluster.
 */
import { LambdaError } from '../../shared/errors.js';
import { NO_CONTROL, type SpeedControl, type SpeedControlChange } from '../../shared/speed/control.js';
import { redisCall } from './client.js';
import { speedControlKey } from './keys.js';
import { loadScripts, type RedisClient } from './scripts.js';

/** The control as stored (HGETALL's object); anything unreadable counts as not set. */
export function parseControl(hash: Record<string, string> | null | undefined): SpeedControl {
  if (!hash) return NO_CONTROL;
  const version = Number(hash.version ?? 0);
  const updatedAt = Number(hash.updatedAt);
  return {
    dedupe: hash.dedupe === '1' ? true : hash.dedupe === '0' ? false : null,
    paused: hash.paused === '1',
    version: Number.isSafeInteger(version) && version > 0 ? version : 0,
    updatedAt: Number.isSafeInteger(updatedAt) && updatedAt > 0 ? updatedAt : null,
  };
}

export async function readSpeedControl(redis: RedisClient, prefix: string): Promise<SpeedControl> {
  return redisCall('read speed control', async () => parseControl(await redis.hgetall(speedControlKey(prefix))));
}

/** Applies an admin's change and returns the control after it (with its new version). */
export async function changeSpeedControl(redis: RedisClient, prefix: string, change: SpeedControlChange): Promise<SpeedControl> {
  const fields: string[] = [];
  if (change.dedupe !== undefined) fields.push('dedupe', change.dedupe === null ? '' : change.dedupe ? '1' : '0');
  if (change.paused !== undefined) fields.push('paused', change.paused ? '1' : '0');
  if (fields.length === 0) throw new LambdaError('VALIDATION', 'a speed control change must set dedupe or paused');
  const flat = await redisCall('change speed control', () => loadScripts(redis).setControl(speedControlKey(prefix), Date.now(), fields));
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i] as string] = flat[i + 1] as string;
  return parseControl(hash);
}
