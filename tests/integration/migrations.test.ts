import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('committed migrations', () => {
  it('produce exactly the schema in prisma/schema.prisma (no drift)', () => {
    // Replays every migration into a shadow database and compares it with the schema file.
    const res = spawnSync(
      process.execPath,
      ['infra/prisma.mjs', 'migrate', 'diff', '--from-migrations', 'prisma/migrations', '--to-schema-datamodel', 'prisma/schema.prisma', '--exit-code'],
      { encoding: 'utf8', env: process.env, timeout: 120_000 },
    );
    expect(res.stdout + res.stderr).toContain('No difference detected');
    expect(res.status).toBe(0);
  }, 150_000);
});
