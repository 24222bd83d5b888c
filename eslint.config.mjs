import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      // The import direction of DESIGN.md: a package may only import the ones below it.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'scope:core', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:policy', onlyDependOnLibsWithTags: ['scope:core'] },
            { sourceTag: 'scope:security', onlyDependOnLibsWithTags: ['scope:core'] },
            { sourceTag: 'scope:providers', onlyDependOnLibsWithTags: ['scope:core', 'scope:policy'] },
            {
              sourceTag: 'scope:sandbox',
              onlyDependOnLibsWithTags: ['scope:core', 'scope:policy', 'scope:security', 'scope:providers'],
            },
            {
              sourceTag: 'scope:gateway',
              onlyDependOnLibsWithTags: [
                'scope:core',
                'scope:policy',
                'scope:security',
                'scope:providers',
                'scope:sandbox',
              ],
            },
            {
              sourceTag: 'scope:runtime',
              onlyDependOnLibsWithTags: [
                'scope:core',
                'scope:policy',
                'scope:security',
                'scope:providers',
                'scope:sandbox',
                'scope:gateway',
              ],
            },
            {
              sourceTag: 'scope:server',
              onlyDependOnLibsWithTags: [
                'scope:core',
                'scope:policy',
                'scope:security',
                'scope:providers',
                'scope:sandbox',
                'scope:gateway',
                'scope:runtime',
              ],
            },
            {
              sourceTag: 'scope:testing',
              onlyDependOnLibsWithTags: [
                'scope:core',
                'scope:policy',
                'scope:security',
                'scope:providers',
                'scope:sandbox',
                'scope:gateway',
                'scope:runtime',
                'scope:server',
              ],
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    // No import cycles at any level, across packages too (the resolver follows tsconfig paths to
    // each package's sources), over src, bench and tests alike.
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Without a parser for dependencies import-x cannot read a .ts import and finds no cycle at all.
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // Providers only plan and parse: no Docker client, no processes, no sockets, no files.
    files: ['packages/providers/src/**/*.ts'],
    ignores: ['packages/providers/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            'dockerode',
            'child_process',
            'node:child_process',
            'fs',
            'node:fs',
            'fs/promises',
            'node:fs/promises',
            'net',
            'node:net',
            'http',
            'node:http',
            'https',
            'node:https',
          ].map((name) => ({
            name,
            message: 'Providers only plan and parse; the runtime runs them (DESIGN.md).',
          })),
          patterns: [
            {
              group: ['@bastion/agent-runtime', '@bastion/security', '@bastion/testing'],
              message: 'Providers may import only core and policy.',
            },
          ],
        },
      ],
    },
  },
];
