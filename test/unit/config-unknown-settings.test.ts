/**
 * A misspelt setting is named, not silently ignored (platform/config.ts unknownSettings; the CLI
 * warns at start): every LAMBDA_* variable the service does not know, except the service scripts'
 * own LAMBDA_LOCAL_* ports.
 */
import { describe, expect, it } from 'vitest';
import { settingsTable, unknownSettings } from '../../platform/config.js';

describe('unknownSettings', () => {
  it('names LAMBDA_ variables the service does not know, and none of the ones it does', () => {
    const known = Object.fromEntries(settingsTable().map((s) => [s.name, 'x']));
    expect(Object.keys(known).length).toBeGreaterThan(30);
    expect(unknownSettings(known)).toEqual([]);
    expect(
      unknownSettings({ ...known, LAMBDA_SPEED_DEDUP: 'false', LAMBDA_TOPC: 't', LAMBDA_LOCAL_KAFKA_PORT: '9999', KAFKA_BROKERS: 'k:9092', PATH: '/bin' }),
    ).toEqual(['LAMBDA_SPEED_DEDUP', 'LAMBDA_TOPC']);
  });
});
