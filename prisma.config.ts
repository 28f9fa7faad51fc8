// Prisma CLI configuration. Migrations run through Prisma's WebAssembly schema engine over the
// `pg` driver adapter, so no native engine binary is ever downloaded (see infra/prisma.mjs).
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

function ownerConnection() {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run Prisma through `node infra/prisma.mjs` or npm scripts');
  const u = new URL(url);
  // Discrete fields (not a connection string) so the shadow database name can be overridden.
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.slice(1),
  };
}

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  engine: 'js',
  experimental: { adapter: true },
  adapter: () => Promise.resolve(new PrismaPg(ownerConnection())),
});
