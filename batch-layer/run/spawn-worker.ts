/**
 * Starts a worker thread from a module URL, TypeScript included. The project runs from source
 * with tsx, and on Node 20 neither `execArgv: ['--import', 'tsx']` nor the inherited loader reach
 * a worker's entry module (it fails with ERR_UNKNOWN_FILE_EXTENSION). So a .ts worker starts as a
 * tiny ESM bootstrap that registers tsx's loader in the new thread, then imports the real module.
 * tsx is resolved from this file (import.meta.resolve), so it works whatever the working directory,
 * under `node --import tsx`, `tsx` and vitest alike. A .js worker (a build) starts directly.
 */
import { Worker } from 'node:worker_threads';

export function spawnWorker(moduleUrl: URL, workerData: unknown): Worker {
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, { workerData });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl.href)}); });`;
  // An eval'd string is a CommonJS script, where dynamic import() is available.
  return new Worker(bootstrap, { eval: true, workerData });
}
