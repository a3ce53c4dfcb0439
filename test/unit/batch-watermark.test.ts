import { describe, expect, it } from 'vitest';
import { computeWatermark, NO_WATERMARK } from '../../batch-layer/run/watermark.js';

const A = Date.UTC(2024, 4, 1, 12, 30, 45, 500);

describe('batch watermark W = floor_to_minute(A - allowedLateness)', () => {
  it('subtracts the lateness, then floors to the minute', () => {
    expect(computeWatermark(A, 60_000)).toBe(Date.UTC(2024, 4, 1, 12, 29));
    expect(computeWatermark(A, 0)).toBe(Date.UTC(2024, 4, 1, 12, 30));
    expect(computeWatermark(A, 45_500)).toBe(Date.UTC(2024, 4, 1, 12, 30));
    expect(computeWatermark(A, 45_501)).toBe(Date.UTC(2024, 4, 1, 12, 29));
    expect(computeWatermark(A, 3_600_000)).toBe(Date.UTC(2024, 4, 1, 11, 30));
  });

  it('is always a whole minute and never after A - lateness', () => {
    for (let lateness = 0; lateness < 200_000; lateness += 7_919) {
      const w = computeWatermark(A, lateness);
      expect(w % 60_000).toBe(0);
      expect(w).toBeLessThanOrEqual(A - lateness);
      expect(A - lateness - w).toBeLessThan(60_000);
    }
  });

  it('claims nothing (W = 0) when A is unknown or the lateness reaches back before the epoch', () => {
    expect(NO_WATERMARK).toBe(0);
    expect(computeWatermark(null, 60_000)).toBe(NO_WATERMARK);
    expect(computeWatermark(30_000, 60_000)).toBe(NO_WATERMARK);
    expect(computeWatermark(60_000, 60_000)).toBe(NO_WATERMARK);
  });
});
