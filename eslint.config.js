// ESLint: typescript-eslint with type-checked rules, plus the architecture's import boundaries.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeAndInfra = ['node:*', 'fs', 'path', 'crypto', 'child_process', 'net', 'os', 'http', 'https'];

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/.next*/**', 'packages/db/generated/**', '.data/**', '.exp/**', '**/*.mjs', '**/*.cjs', 'eslint.config.js', 'apps/web/next-env.d.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
    },
  },
  {
    // The engine is pure domain logic: no Node, Next, Prisma, ws, BullMQ or database access.
    files: ['packages/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeAndInfra, message: 'packages/engine stays pure: pass I/O in through arguments.' },
            { group: ['next', 'next/*', 'react', '@prisma/*', 'ws', 'bullmq', 'ioredis', 'pg', '@tandem/db', '@tandem/security'], message: 'packages/engine may import zod only.' },
          ],
        },
      ],
    },
  },
  {
    // Web, worker, agent and gateway never import each other: they meet in Postgres and Redis.
    files: ['apps/web/**/*.{ts,tsx}'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['@tandem/worker', '@tandem/agent', '**/apps/worker/**', '**/apps/agent/**'], message: 'Apps meet in Postgres and Redis, not in imports.' }] }] },
  },
  {
    files: ['apps/worker/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['@tandem/web', '@tandem/agent', '**/apps/web/**', '**/apps/agent/**'], message: 'Apps meet in Postgres and Redis, not in imports.' }] }] },
  },
  {
    files: ['**/*.test.ts', 'tests/**/*.ts', 'e2e/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/unbound-method': 'off' },
  },
);
