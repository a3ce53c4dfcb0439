/**
 * A process whose one service leaves a handle open after stopping (a listening socket it never
 * closes, as a client whose connect was in flight at the signal can): `node --import tsx
 * test/support/linger-child.ts`. Prints "ready" once started; SIGINT stops it. Used by
 * test/integration/lifecycle-linger.test.ts.
 */
import { createServer } from 'node:net';
import { createLogger } from '../../platform/logger.js';
import { runUntilSignal } from '../../platform/lifecycle.js';

const log = createLogger('info', 'linger-child');
const leftOpen = createServer();
await runUntilSignal(
  [
    {
      name: 'leaky',
      start: () => new Promise<void>((resolve) => leftOpen.listen(0, '127.0.0.1', () => resolve())),
      stop: async () => undefined, // forgets leftOpen: it keeps the event loop alive
    },
    { name: 'ready-marker', start: async () => void process.stdout.write('ready\n'), stop: async () => undefined },
  ],
  log,
  20_000,
);
