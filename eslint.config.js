// Lint rules for the whole repository (server, plugin, tests, tools).
// Formatting is Prettier's job; eslint-config-prettier turns off the rules that clash.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'var/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error', 'warn'] }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The browser plugin: ExtJS globals, no Node.
    files: ['plugin/**/*.ts'],
    languageOptions: { globals: { Ext: 'readonly', Proxmox: 'readonly', PVE: 'readonly' } },
    rules: {
      // Of the service's code, the bundle takes only the contract's plain rules; its schemas
      // and views are types (zod stays out of the browser, docs/api.md).
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+server/src/(?!contract/rules$)',
              allowTypeImports: true,
              message:
                'the plugin imports values only from server/src/contract/rules (types from the contract)',
            },
          ],
        },
      ],
    },
  },
  {
    // The contract is what both sides build on: it imports nothing of the modules (the
    // network settings' schema, until it moves here, is the one exception).
    files: ['server/src/contract/**/*.ts'],
    ignores: ['server/src/contract/routes.ts', 'server/src/contract/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['../modules/*', '../core/*'], message: 'the contract depends on no module' }],
        },
      ],
    },
  },
  {
    // The test page's stand-ins for Proxmox VE's own scripts: plain browser JavaScript.
    files: ['test/ui/page/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: {
        Ext: 'readonly',
        Proxmox: 'writable',
        PVE: 'writable',
        gettext: 'readonly',
        document: 'readonly',
      },
    },
    // `let me = this;` is how every Proxmox VE class is written
    rules: { '@typescript-eslint/no-this-alias': 'off' },
  },
  {
    // Test tools and benchmarks report to the terminal.
    files: ['test/**/*.ts', 'test/**/*.mjs'],
    languageOptions: { globals: { setInterval: 'readonly', clearInterval: 'readonly' } },
    rules: { 'no-console': 'off' },
  },
  prettier,
);
