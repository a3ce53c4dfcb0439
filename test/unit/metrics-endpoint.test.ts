/**
 * The metrics-only endpoint of roles other than `serve` (cli/runtime.ts): it serves the registry,
 * and a collector that throws is a 500 and a log line, not an unhandled rejection that ends the
 * process (found by @typescript-eslint/no-misused-promises: Node ignores a request handler's promise).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Gauge } from 'prom-client';
import { metricsEndpoint, type Runtime } from '../../cli/runtime.js';
import type { Config } from '../../platform/config.js';
import { createMetrics } from '../../platform/metrics.js';
import type { Service } from '../../platform/lifecycle.js';
import { defaultViewSet } from '../../shared/views/default-views.js';
import { capturingLogger } from '../support/kafka-broker.js';
import { freePort } from '../support/free-port.js';

describe('metrics endpoint', () => {
  let service: Service | null = null;
  afterEach(async () => {
    await service?.stop();
    service = null;
  });

  it('serves the registry, and answers 500 with a log line when a collector throws', async () => {
    const port = await freePort();
    const { log, lines } = capturingLogger();
    const metrics = createMetrics();
    const rt: Runtime = { config: { http: { metricsPort: port, host: '127.0.0.1' } } as Config, log, metrics, views: defaultViewSet() };
    service = metricsEndpoint(rt);
    await service!.start();
    const ok = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe(metrics.registry.contentType);
    expect(await ok.text()).toContain('lambda_');
    new Gauge({
      name: 'test_broken_collector',
      help: 'a collector that throws',
      registers: [metrics.registry],
      collect() {
        throw new Error('collector broke');
      },
    });
    const broken = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(broken.status).toBe(500);
    expect(lines.some((l) => l.msg === 'metrics collection failed')).toBe(true);
    expect((await fetch(`http://127.0.0.1:${port}/livez`)).status).toBe(200);
  });
});
