/**
 * The import-graph rule that the three layers reach infrastructure only through ports
 * (.dependency-cruiser.cjs "layers-import-no-adapter", docs/design-decisions.md "Ports") fails on a
 * deliberate violation: dependency-cruiser runs with the project's own configuration over a small
 * tree written to a temporary folder (never into the repository), as `npm test` runs it. A lazy
 * import() counts too, and the archiver (batch-layer/archiver/) is held to it like the rest of the batch layer.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function write(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

describe('import rules', () => {
  const root = mkdtempSync(join(tmpdir(), 'import-rules-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('refuses a speed, serving or batch layer module that imports an adapter, and allows one that imports a port', () => {
    write(root, {
      'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
      'adapters/redis/client.ts': 'export const client = 1;\n',
      'shared/ports.ts': 'export interface Port { read(): number }\n',
      'speed-layer/uses-adapter.ts': "import { client } from '../adapters/redis/client.js';\nexport const n = client;\n",
      'serving-layer/query/uses-adapter.ts': "import { client } from '../../adapters/redis/client.js';\nexport const n = client;\n",
      'speed-layer/uses-port.ts': "import type { Port } from '../shared/ports.js';\nexport const read = (p: Port) => p.read();\n",
      'batch-layer/run/uses-adapter.ts': "import { client } from '../../adapters/redis/client.js';\nexport const n = client;\n",
      'batch-layer/run/imports-adapter-lazily.ts': "export const load = () => import('../../adapters/redis/client.js');\n",
      'batch-layer/run/uses-port.ts': "import type { Port } from '../../shared/ports.js';\nexport const read = (p: Port) => p.read();\n",
      'batch-layer/archiver/uses-adapter.ts': "import { client } from '../../adapters/redis/client.js';\nexport const n = client;\n",
    });
    const run = spawnSync(
      join(repo, 'node_modules', '.bin', 'depcruise'),
      ['--config', join(repo, '.dependency-cruiser.cjs'), '--output-type', 'err', 'shared', 'speed-layer', 'serving-layer', 'batch-layer', 'adapters'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(run.status).not.toBe(0);
    const violations = run.stdout.split('\n').filter((l) => l.includes('error '));
    expect(violations.map((l) => l.trim()).sort()).toEqual([
      'error layers-import-no-adapter: batch-layer/archiver/uses-adapter.ts → adapters/redis/client.ts',
      'error layers-import-no-adapter: batch-layer/run/imports-adapter-lazily.ts → adapters/redis/client.ts',
      'error layers-import-no-adapter: batch-layer/run/uses-adapter.ts → adapters/redis/client.ts',
      'error layers-import-no-adapter: serving-layer/query/uses-adapter.ts → adapters/redis/client.ts',
      'error layers-import-no-adapter: speed-layer/uses-adapter.ts → adapters/redis/client.ts',
    ]);
  }, 30_000);
});
