/**
 * One produce-to-visible latency measurement at a given rate, alone on the machine (the full
 * bench measures it right after saturating runs, whose after-effects can linger):
 *   node --import tsx bench/speed/latency-once.ts 12000 [seconds]
 * Prints {"rate", "p50", "p99", "max"} in events/s and ms.
 */
import { benchContext } from '../lib/bench-context.js';
import { findServices } from '../lib/services.js';
import { measureLatency } from './latency.js';

const rate = Number(process.argv[2] ?? 7000);
const seconds = Number(process.argv[3] ?? 15);
const ctx = benchContext(findServices(process.env), 'latency', { LAMBDA_TOPIC_PARTITIONS: '2' });
try {
  const r = await measureLatency(ctx, { targetRate: rate, seconds, calibrate: false });
  process.stdout.write(
    `${JSON.stringify({ rate: Math.round(r.achievedRate), p50: Math.round(r.p50Ms), p99: Math.round(r.p99Ms), max: Math.round(r.maxMs) })}\n`,
  );
} finally {
  await ctx.cleanup();
}
process.exit(0);
