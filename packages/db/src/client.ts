import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';

export function createPrismaClient(connectionString: string, opts: { max?: number } = {}) {
  const adapter = new PrismaPg({ connectionString, max: opts.max ?? 10 });
  return new PrismaClient({ adapter });
}

export type Db = ReturnType<typeof createPrismaClient>;

const globalForDb = globalThis as unknown as { tandemAppDb?: Db };

/**
 * The application's connection: the `tandem_app` role, subject to row-level security.
 * Reached only through `withTenant` / `withUser` / `withInvitation` so the policies' settings are
 * always present.
 */
export function appDb(): Db {
  if (!globalForDb.tandemAppDb) {
    const url = process.env.APP_DATABASE_URL;
    if (!url) throw new Error('APP_DATABASE_URL is not set');
    globalForDb.tandemAppDb = createPrismaClient(url);
  }
  return globalForDb.tandemAppDb;
}
