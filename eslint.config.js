// Lint rules double as architecture checks: which process may import what.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nodeBuiltins = { group: ['node:*'], message: 'shared/ and renderer/ run in every process: no Node built-ins here.' };
const electronImport = { name: 'electron', message: 'Only electron/main and electron/preload may import electron.' };

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'release/**', 'node_modules/**', 'test-results/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['electron/engine/**', 'electron/cli/**', 'electron/webhost/**', 'server/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [electronImport] }] },
  },
  {
    files: ['shared/**', 'renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { paths: [electronImport, 'fs', 'path', 'crypto', 'os', 'child_process'], patterns: [nodeBuiltins] }],
    },
  },
);
