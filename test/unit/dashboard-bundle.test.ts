/**
 * The browser bundle holds the dashboard, uPlot and the teaching lab's experiments (lab/, a client
 * of the public API, with the pure shared/ modules it uses), nothing else: the answer types the dashboard
 * takes from the server's response schemas are imported type-only, so esbuild erases them and
 * neither zod nor server code reaches the browser (.dependency-cruiser.cjs checks the imports;
 * this checks what esbuild actually bundled, from the source map's list of sources).
 */
import { describe, it, expect } from 'vitest';
import { buildDashboard } from '../../serving-layer/dashboard/bundle.js';

describe('dashboard bundle', () => {
  it('bundles only the dashboard sources, uPlot, and the lab with the pure shared/ modules it needs', async () => {
    const { assets } = await buildDashboard();
    const map = [...assets].find(([name]) => name.endsWith('.js.map'));
    expect(map).toBeDefined();
    const sources = (JSON.parse(map![1].body.toString()) as { sources: string[] }).sources;
    expect(sources.some((s) => s.endsWith('dashboard/src/api.ts'))).toBe(true);
    expect(sources.filter((s) => !/serving-layer\/dashboard\/src\/|node_modules\/uplot\/|^\.\.\/lab\//.test(s)).sort()).toEqual([
      '../shared/errors.ts',
      '../shared/invalid-reasons.ts',
      '../shared/time.ts',
    ]);
    expect(sources.some((s) => s.endsWith('lab/experiments/late-arrivals.ts'))).toBe(true);
  });
});
