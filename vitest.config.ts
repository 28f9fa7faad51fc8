import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { alias: { '@': fileURLToPath(new URL('./apps/web/src', import.meta.url)) } },
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          // Real PostgreSQL and Redis, started by infra/test.mjs.
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          // next-auth imports `next/server` the way bundlers allow and Node's ESM loader does not;
          // letting Vite load it resolves that (tests/integration/sessions.test.ts drives it).
          server: { deps: { inline: ['next-auth'] } },
        },
      },
    ],
  },
});
