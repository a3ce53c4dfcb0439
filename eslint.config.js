// Lint rules for the whole repo. The one project-specific rule: configuration is read once, so
// `process.env` is allowed only where the environment enters (the CLI entry, config, test harness).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'services/', 'serving-layer/dashboard/dist/', 'coverage/', '.tmp/', 'bench/results*'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration once in platform/config.ts and pass it in.' }],
    },
  },
  {
    // Type-aware rules (docs/design-decisions.md, "Static checks"): a promise nobody awaits or catches is
    // a crash or a lost error in this callback-heavy code (kafkajs handlers, timers, Express). Only
    // these two rules read types, so the cost is one TypeScript program per tsconfig (the root one
    // and the dashboard's, found by the project service).
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['cli/main.ts', 'test/support/global-setup.ts', 'test/support/context.ts', 'vitest.config.ts', 'bench/**', 'scripts/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['serving-layer/dashboard/src/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
