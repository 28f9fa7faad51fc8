// ESLint: typescript-eslint with type-checked rules, plus the architecture's import boundaries.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const otherApps = (app) =>
  ['web', 'worker', 'gateway', 'agent']
    .filter((a) => a !== app)
    .flatMap((a) => [`@tandem/${a}`, `@tandem/${a}/*`, `**/apps/${a}/**`]);
const appsMeet = (app) => ({ group: otherApps(app), message: 'Apps meet in Postgres and Redis, not in imports.' });

// Plain Node scripts (infra/*.mjs) are not type-checked, so they name the globals they may use.
const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'clearImmediate',
    'fetch',
    'AbortController',
    'AbortSignal',
    'TextEncoder',
    'TextDecoder',
    'structuredClone',
    'performance',
    'queueMicrotask',
  ].map((g) => [g, 'readonly']),
);

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/.next*/**',
      '**/dist/**',
      'packages/db/generated/**',
      '.data/**',
      '.exp/**',
      '**/*.mjs',
      '**/*.cjs',
      '!infra/*.mjs',
      '!infra/demo/*.mjs',
      '!apps/agent/build.mjs',
      '!infra/*.cjs',
      'eslint.config.js',
      'apps/web/next-env.d.ts',
    ],
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
    // The engine is pure domain logic, so an allowlist: zod and its own files, nothing else (no
    // Node, Next, Prisma, ws, BullMQ or database). Time and I/O come in as arguments.
    files: ['packages/engine/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!(?:zod(?:/.*)?|\\.\\.?/(?!.*(?:^|/)(?:apps|packages|node_modules)/).*)$)',
              message: 'packages/engine may import zod and its own files only: pass I/O in through arguments.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/engine/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!(?:zod(?:/.*)?|vitest|\\.\\.?/(?!.*(?:^|/)(?:apps|packages|node_modules)/).*)$)',
              message: 'Engine tests may import zod, vitest and the engine only.',
            },
          ],
        },
      ],
    },
  },
  // Web, worker, gateway and agent never import each other: they meet in Postgres and Redis.
  { files: ['apps/web/**/*.{ts,tsx}'], rules: { 'no-restricted-imports': ['error', { patterns: [appsMeet('web')] }] } },
  { files: ['apps/worker/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [appsMeet('worker')] }] } },
  { files: ['apps/gateway/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [appsMeet('gateway')] }] } },
  {
    // The agent runs on customers' servers and talks only to the gateway: no database, Redis,
    // queues or web framework in its bundle.
    files: ['apps/agent/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            appsMeet('agent'),
            {
              group: [
                '@tandem/db',
                '@tandem/agent-bus',
                '@tandem/agent-bus/*',
                '@tandem/jobs',
                '@prisma/*',
                'ioredis',
                'bullmq',
                'pg',
                'next',
                'next/*',
                'react',
                'react-dom',
              ],
              message: 'The agent talks to Tandem only through the gateway (packages/protocol).',
            },
          ],
        },
      ],
    },
  },
  {
    // Plain Node scripts that start servers, build and run tests.
    files: ['infra/*.mjs', 'infra/demo/*.mjs', 'apps/agent/build.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, sourceType: 'module', globals: nodeGlobals },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/consistent-type-imports': 'off' },
  },
  {
    files: ['infra/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
      globals: { ...nodeGlobals, global: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly' },
    },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      '@typescript-eslint/consistent-type-imports': 'off',
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['**/*.test.ts', 'tests/**/*.ts', 'e2e/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/unbound-method': 'off' },
  },
);
