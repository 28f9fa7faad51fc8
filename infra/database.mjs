// Migrations, role grants and the demo seed. Runs as the owner role; the app role gets data rights
// only, and row-level security (defined in the migrations) applies to it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { log, root, run } from './lib.mjs';

function psql(url, sql) {
  const r = spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
  return r.stdout.trim();
}

function ensureAppRole(env) {
  const app = new URL(env.APP_DATABASE_URL);
  const role = decodeURIComponent(app.username);
  const pw = decodeURIComponent(app.password).replaceAll("'", "''");
  const exists = psql(env.DATABASE_URL, `SELECT 1 FROM pg_roles WHERE rolname = '${role}'`);
  if (!exists) psql(env.DATABASE_URL, `CREATE ROLE "${role}" LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '${pw}'`);
  const bypass = psql(env.DATABASE_URL, `SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = '${role}'`);
  if (bypass === 't') throw new Error(`the app role ${role} bypasses row-level security; refusing to run with it`);
  return role;
}

export function prepareDatabase(env) {
  log('applying migrations');
  run(process.execPath, [path.join(root, 'infra/prisma.mjs'), 'migrate', 'deploy'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const role = ensureAppRole(env);
  psql(
    env.DATABASE_URL,
    `GRANT USAGE ON SCHEMA public TO "${role}";
     GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "${role}";
     REVOKE ALL ON TABLE _prisma_migrations FROM "${role}";
     GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "${role}";
     GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO "${role}";`,
  );
}

export function seedDemo(env) {
  log('seeding the demo organization (skipped if it exists)');
  run(process.execPath, ['--import', 'tsx', path.join(root, 'packages/db/src/seed/demo.ts')], { env });
}
