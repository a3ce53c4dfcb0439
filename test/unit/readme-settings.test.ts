/** The README's settings table cannot fall behind the configuration schema. */
import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { settingsTable } from '../../platform/config.js';

describe('README settings table', () => {
  it('names every environment variable the service reads', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const missing = settingsTable()
      .map((s) => s.name)
      .filter((name) => !readme.includes(`\`${name}\``) && !(name.startsWith('LAMBDA_S3_') && readme.includes('`LAMBDA_S3_*`')))
      .filter((name) => !readme.includes(`\`${name.replace(/_(BASE|MAX)_MS$/, '_BASE_MS')}\``));
    expect(missing).toEqual([]);
  });
});
