/**
 * The import graph, checked in CI (part of `npm test`):
 *  - no cycles anywhere;
 *  - shared/ is pure: it imports only shared/ and zod (no layer, no adapter, no client library, no I/O);
 *  - the three layers never import each other; adapters and platform import no layer;
 *  - only the CLI wires layers together.
 */
const LAYERS = ['batch-layer', 'speed-layer', 'serving-layer'];
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'shared-is-pure',
      comment: 'shared/ holds the logic written once; it may import only itself and zod.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { pathNot: ['^shared/', '^node_modules/zod/'] },
    },
    ...LAYERS.flatMap((layer) =>
      LAYERS.filter((other) => other !== layer).map((other) => ({
        name: `${layer}-not-${other}`,
        comment: 'Layers never import each other: they meet only through shared/ and the ports.',
        severity: 'error',
        from: { path: `^${layer}/` },
        to: { path: `^${other}/` },
      })),
    ),
    {
      name: 'adapters-and-platform-import-no-layer',
      severity: 'error',
      from: { path: '^(adapters|platform)/' },
      to: { path: `^(${LAYERS.join('|')}|cli)/` },
    },
    {
      name: 'platform-imports-no-adapter',
      severity: 'error',
      from: { path: '^platform/' },
      to: { path: '^adapters/' },
    },
    {
      name: 'only-cli-imports-cli',
      severity: 'error',
      from: { pathNot: '^(cli|test|bench)/' },
      to: { path: '^cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
