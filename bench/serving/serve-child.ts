/**
 * The serving layer in its own process, built exactly as the CLI's `serve` role builds it
 * (cli/wiring.ts buildServing), on port 0. Environment: the bench context's. Prints
 * {"ready": true, "url": ...} when it listens; stops on SIGTERM.
 */
import { buildMaster, buildServing } from '../../cli/wiring.js';
import { runtime } from '../../cli/runtime.js';

const rt = runtime(process.env);
const master = await buildMaster(rt);
const { serving, services } = buildServing(rt, master, null, { port: 0 });
for (const s of services) await s.start();
process.stdout.write(`${JSON.stringify({ ready: true, url: serving.url })}\n`);
process.once('SIGTERM', () => {
  void (async () => {
    for (const s of [...services].reverse()) await s.stop().catch(() => undefined);
    process.exit(0);
  })();
});
