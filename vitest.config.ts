import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure functions, no services) and `integration` (real Kafka, Redis,
// SQLite files, browser). The integration project's globalSetup finds or starts the services.
export default defineConfig({
  test: {
    reporters: process.env.CI ? ['default'] : ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Integration tests share one broker and one Redis on a 2-core machine: files run one at a
          // time so that timings stay honest, while each test still uses its own topic and key prefix.
          fileParallelism: false,
        },
      },
    ],
  },
});
