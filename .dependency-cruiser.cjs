/**
 * The import graph, checked in CI (part of `npm test`):
 *  - no cycles anywhere;
 *  - shared/ is pure: it imports only shared/ and zod (no layer, no adapter, no client library, no I/O);
 *  - the three layers never import each other; adapters and platform import no layer;
 *  - only the CLI wires layers together, and adapters to the three layers, which reach
 *    infrastructure only through ports (docs/design-decisions.md, "Ports");
 *  - the teaching lab (lab/) is a client of the public HTTP API: it imports only itself and shared/;
 *  - the browser dashboard imports only itself, uPlot and the answer types (type-only), and the
 *    response schemas it takes them from import no server code (docs/design-decisions.md, "Dashboard").
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
      name: 'layers-import-no-adapter',
      comment:
        'The layers use ports (shared/ports.ts, shared/speed/ports.ts, shared/batch/ports.ts, serving-layer/query/context.ts); cli/ builds the adapters.',
      severity: 'error',
      from: { path: '^(speed-layer|serving-layer|batch-layer)/' },
      to: { path: '^adapters/' },
    },
    {
      name: 'lab-is-an-api-client',
      comment:
        'The teaching lab (lab/) drives a running service through its public HTTP API only: it imports itself and shared/, no layer, adapter or platform code.',
      severity: 'error',
      from: { path: '^lab/' },
      to: { pathNot: ['^lab/', '^shared/'] },
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
    {
      name: 'answer-schemas-are-pure',
      comment: 'The response schemas are read by the routes and, as types, by the dashboard: only themselves, shared/ (pure) and zod.',
      severity: 'error',
      from: { path: '^serving-layer/http/schemas/' },
      to: { pathNot: ['^serving-layer/http/schemas/', '^shared/', '^node_modules/zod/'] },
    },
    {
      name: 'dashboard-imports-no-server-code',
      comment:
        'The browser bundle is the dashboard, uPlot and the lab (a client of the public API, browser-safe); answer types come from the response schemas.',
      severity: 'error',
      from: { path: '^serving-layer/dashboard/src/' },
      to: { pathNot: ['^serving-layer/dashboard/src/', '^node_modules/uplot/', '^serving-layer/http/schemas/', '^lab/'] },
    },
    {
      name: 'dashboard-imports-answer-types-only',
      comment: 'Type-only, so esbuild erases the import and no zod reaches the browser.',
      severity: 'error',
      from: { path: '^serving-layer/dashboard/src/' },
      to: { path: '^serving-layer/http/schemas/', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // A worktree may link node_modules to another checkout's: name packages as node_modules/<pkg> still.
    preserveSymlinks: true,
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
